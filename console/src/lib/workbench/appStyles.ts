// The app's stylesheet (ui/src/app.css) for the preview, which draws the app's own
// interview components inside a shadow root: there the app looks as it does on a tablet
// and the console's styles and the app's never meet. Adopted as a constructed sheet, so
// the Content-Security-Policy needs no inline styles.
import appCss from '../../../../ui/src/app.css?inline';

/** The app's rules with its page-level selectors (`:root`, `html`, `body`) on the host. */
export function shadowCss(css: string): string {
  return css
    .replace(/(^|[\s,}])(?::root|html|body)(?=\s*[{,])/g, '$1:host')
    .replace(/^\s*@import[^;]*;/gm, '');
}

let sheet: CSSStyleSheet | null = null;

export function appSheet(): CSSStyleSheet {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(shadowCss(appCss));
  }
  return sheet;
}
