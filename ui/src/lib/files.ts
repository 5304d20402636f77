// A chosen file's bytes as the commands take them.

/** The file's bytes as base64, read in chunks: spreading a whole workbook or photo into
 * one `String.fromCharCode` call overflows the stack. */
export async function base64Of(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
