// Vite's `?raw` imports (a file's text), used by tests that read the stylesheet.
declare module '*?raw' {
  const text: string;
  export default text;
}
