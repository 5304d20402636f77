// A new password for a person, made in the page from the browser's cryptographic random
// source; letters and digits that cannot be mistaken for each other when read aloud.
const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export function newPassword(length = 16, random: (a: Uint32Array) => Uint32Array = (a) => crypto.getRandomValues(a)): string {
  // Rejection sampling, so every character is equally likely.
  const limit = Math.floor(2 ** 32 / ALPHABET.length) * ALPHABET.length;
  let out = '';
  while (out.length < length) {
    for (const v of random(new Uint32Array(length))) {
      if (v < limit && out.length < length) out += ALPHABET[v % ALPHABET.length];
    }
  }
  return out;
}
