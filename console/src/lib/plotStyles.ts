// Plot's own <style> elements as one constructed style sheet instead (see Chart.svelte).
const adopted = new Set<string>();

export function adoptStyles(node: Element): void {
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
