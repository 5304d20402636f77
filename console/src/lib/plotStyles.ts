// Plot's own <style> elements as one constructed style sheet instead (see Chart.svelte).
const adopted = new Set<string>();

export function adoptStyles(node: Element): void {
  // Plot labels its inner groups (aria-label on <g>, which ARIA does not allow there); the
  // chart is described by its figure and the table next to it, so its drawing is hidden
  // from screen readers.
  node.setAttribute('aria-hidden', 'true');
  const styles = [...node.querySelectorAll('style')];
  if (node instanceof HTMLStyleElement) styles.push(node);
  for (const style of styles) {
    const text = style.textContent ?? '';
    style.remove();
    if (adopted.has(text)) continue;
    adopted.add(text);
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  }
}
