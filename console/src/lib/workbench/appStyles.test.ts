import { describe, expect, it } from 'vitest';
import { shadowCss } from './appStyles';

describe("the app's stylesheet in the preview's shadow root", () => {
  it('puts page-level rules on the host and leaves the rest', () => {
    const css = ':root {\n  --fg: #000;\n}\nhtml { a: 1; }\nbody { margin: 0; }\n.body-text { x: 1; }\nmain { padding: 1rem; }\nh1, body { y: 2; }';
    expect(shadowCss(css)).toBe(':host {\n  --fg: #000;\n}\n:host { a: 1; }\n:host { margin: 0; }\n.body-text { x: 1; }\nmain { padding: 1rem; }\nh1, :host { y: 2; }');
  });
});
