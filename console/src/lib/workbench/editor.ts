// The workbench's JSON editor: CodeMirror 6 with the form schema's completion and hover
// help (schema.ts) and the checker's findings as the designer types, each underlined at
// its line (the checker is the core's, run in the page as WebAssembly: core.ts).
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type Completion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { json } from '@codemirror/lang-json';
import { bracketMatching, foldGutter, indentOnInput, syntaxHighlighting, defaultHighlightStyle, syntaxTree } from '@codemirror/language';
import { linter, lintGutter, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import { EditorState, type Text } from '@codemirror/state';
import { EditorView, drawSelection, highlightActiveLine, hoverTooltip, keymap, lineNumbers } from '@codemirror/view';
import type { SyntaxNode } from '@lezer/common';
import formSchema from '../../../../schemas/form.schema.json';
import { describe, propertiesAt, valuesAt, type Schema, type Segment } from './schema';

/** A finding of the checker, as voices-wasm's `check` gives it. */
export interface Finding {
  severity: 'error' | 'warning';
  code: string;
  pointer: string;
  line?: number;
  column?: number;
  message: string;
}

const root = formSchema as Schema;

function unquote(doc: Text, node: SyntaxNode): string {
  const raw = doc.sliceString(node.from, node.to);
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.replace(/^"|"$/g, '');
  }
}

/** The `type` property of an Object node, read from the tree (the text may not parse). */
function typeOfObject(doc: Text, object: SyntaxNode): string | undefined {
  for (let p = object.firstChild; p; p = p.nextSibling) {
    if (p.name !== 'Property') continue;
    const key = p.getChild('PropertyName');
    const value = key?.nextSibling;
    if (key && value?.name === 'String' && unquote(doc, key) === 'type') return unquote(doc, value);
  }
  return undefined;
}

const VALUE_NODES = new Set(['Object', 'Array', 'String', 'Number', 'True', 'False', 'Null']);

/** The path of `node` in the document, and each enclosing object's `type` by path. */
function placeOf(doc: Text, node: SyntaxNode): { path: Segment[]; types: Map<string, string> } {
  const steps: { seg?: Segment; object?: SyntaxNode }[] = [];
  for (let n: SyntaxNode | null = node; n; n = n.parent) {
    const parent = n.parent;
    if (n.name === 'Object') steps.push({ object: n });
    if (!parent) break;
    if (parent.name === 'Property' && n.name !== 'PropertyName' && VALUE_NODES.has(n.name)) {
      const key = parent.getChild('PropertyName');
      if (key) steps.push({ seg: unquote(doc, key) });
    } else if (parent.name === 'Array' && VALUE_NODES.has(n.name)) {
      let index = 0;
      for (let s = n.prevSibling; s; s = s.prevSibling) if (VALUE_NODES.has(s.name)) index++;
      steps.push({ seg: index });
    }
  }
  steps.reverse();
  const path: Segment[] = [];
  const types = new Map<string, string>();
  for (const step of steps) {
    if (step.seg !== undefined) path.push(step.seg);
    if (step.object) {
      const t = typeOfObject(doc, step.object);
      if (t !== undefined) types.set(JSON.stringify(path), t);
    }
  }
  return { path, types };
}

const typeAt = (types: Map<string, string>) => (path: Segment[]) => types.get(JSON.stringify(path));

/** Property names inside an object; values after a property's colon. */
export function schemaCompletion(context: CompletionContext): CompletionResult | null {
  const tree = syntaxTree(context.state);
  const doc = context.state.doc;
  const node = tree.resolveInner(context.pos, -1);
  const inString = node.name === 'String' || node.name === 'PropertyName';
  const from = inString ? node.from : context.pos;
  const to = inString ? node.to : undefined;
  if (!inString && !context.explicit && !/[{,:\s[]$/.test(doc.sliceString(Math.max(0, context.pos - 1), context.pos))) return null;

  // A key: in a PropertyName, or where a key may start in an object.
  const object = node.name === 'PropertyName' ? node.parent?.parent : node.name === 'Object' ? node : null;
  const isKey = node.name === 'PropertyName' || (node.name === 'Object' && /[{,]\s*$/.test(doc.sliceString(node.from, context.pos)));
  if (object && isKey) {
    const { path, types } = placeOf(doc, object);
    const present = new Set<string>();
    for (let p = object.firstChild; p; p = p.nextSibling) {
      const key = p.name === 'Property' ? p.getChild('PropertyName') : null;
      if (key && key.from !== node.from) present.add(unquote(doc, key));
    }
    const options: Completion[] = propertiesAt(root, path, typeAt(types))
      .filter((p) => !present.has(p.name))
      .map((p) => ({
        label: p.name,
        type: 'property',
        detail: p.required ? 'required' : undefined,
        info: p.description || undefined,
        apply: inString ? JSON.stringify(p.name) : `${JSON.stringify(p.name)}: `,
        boost: p.required ? 1 : 0,
      }));
    return { from, to, options, validFor: /^"?[\w$]*"?$/ };
  }

  // A value: after `"key":` (the node is the value itself or the property around the cursor).
  const property = node.name === 'Property' ? node : node.parent?.name === 'Property' ? node.parent : null;
  if (property && (node.name !== 'Property' || /:\s*$/.test(doc.sliceString(property.from, context.pos)))) {
    const valueNode = node.name === 'Property' ? null : node;
    const { path } = placeOf(doc, valueNode ?? property);
    const key = property.getChild('PropertyName');
    const { types } = placeOf(doc, property.parent ?? property);
    const full = valueNode ? path : [...path, ...(key ? [unquote(doc, key)] : [])];
    const options: Completion[] = valuesAt(root, full, typeAt(types)).map((v) => ({
      label: v.json,
      type: 'enum',
      info: v.description || undefined,
    }));
    if (options.length === 0) return null;
    return { from, to, options, validFor: /^"?[\w$-]*"?$/ };
  }
  return null;
}

/** The schema's description of the property or value under the pointer. */
const schemaHover = hoverTooltip((view, pos, side) => {
  const doc = view.state.doc;
  let node: SyntaxNode | null = syntaxTree(view.state).resolveInner(pos, side);
  if (!node) return null;
  let path: Segment[];
  let types: Map<string, string>;
  if (node.name === 'PropertyName') {
    const object = node.parent?.parent;
    if (!object) return null;
    ({ path, types } = placeOf(doc, object));
    path = [...path, unquote(doc, node)];
  } else if (VALUE_NODES.has(node.name) && node.name !== 'Object' && node.name !== 'Array') {
    ({ path, types } = placeOf(doc, node));
  } else return null;
  const words = describe(root, path, typeAt(types));
  if (!words) return null;
  const at = node;
  return {
    pos: at.from,
    end: at.to,
    above: true,
    create: () => {
      const dom = document.createElement('div');
      dom.className = 'schema-help';
      dom.textContent = words;
      return { dom };
    },
  };
});

/** A finding's place in the text: its line and column (1-based, in characters). */
export function findingRange(doc: Text, f: Finding): { from: number; to: number } {
  const lineNo = Math.min(Math.max(f.line ?? 1, 1), doc.lines);
  const line = doc.line(lineNo);
  // Columns count characters; CodeMirror counts UTF-16 units.
  const chars = [...line.text];
  const offset = chars.slice(0, Math.max((f.column ?? 1) - 1, 0)).join('').length;
  const from = Math.min(line.from + offset, line.to);
  // To the end of the token that starts there (a string, a number, a word), else the line.
  const rest = line.text.slice(from - line.from);
  const token = /^"(?:[^"\\]|\\.)*"?|^[^\s,:{}[\]]+/.exec(rest);
  const to = token && token[0].length > 0 ? from + token[0].length : line.to;
  return { from, to: Math.max(to, from) };
}

export interface EditorOptions {
  parent: HTMLElement;
  text: string;
  /** The core's checker over the whole text. */
  check: (text: string) => Finding[];
  onChange: (text: string) => void;
  /** The findings just computed (for the list beside the editor). */
  onFindings: (findings: Finding[]) => void;
  label: string;
}

/** The editor's own look. CodeMirror injects its styles as a constructed style sheet only
 *  inside a shadow root (in a document it adds a <style> element, which the console's
 *  Content-Security-Policy refuses), so the editor lives in one. */
const look = EditorView.theme({
  '&': { maxHeight: '70vh', fontSize: '0.9rem' },
  '.cm-scroller': { overflow: 'auto', fontFamily: 'ui-monospace, monospace' },
  '.schema-help': { maxWidth: '32rem', padding: '0.4rem 0.6rem', whiteSpace: 'pre-wrap' },
  // The lint package draws its underlines and gutter markers as data: SVG images, which the
  // Content-Security-Policy (`img-src 'self'`) refuses: the same marks in plain CSS.
  '.cm-lintRange-error, .cm-lintRange-warning, .cm-lintRange-info, .cm-lintRange-hint': {
    backgroundImage: 'none',
    textDecorationLine: 'underline',
    textDecorationStyle: 'wavy',
    textDecorationSkipInk: 'none',
  },
  '.cm-lintRange-error': { textDecorationColor: '#d11' },
  '.cm-lintRange-warning': { textDecorationColor: '#b36b00' },
  '.cm-lintRange-info, .cm-lintRange-hint': { textDecorationColor: '#66b' },
  '.cm-lint-marker': { width: '0.7em', height: '0.7em', borderRadius: '50%', margin: '0.25em' },
  '.cm-lint-marker-error': { content: 'none', backgroundColor: '#d11' },
  '.cm-lint-marker-warning': { content: 'none', backgroundColor: '#b36b00' },
  '.cm-lint-marker-info': { content: 'none', backgroundColor: '#66b' },
});

/** An editor in a shadow root of `parent`; the checker runs as the designer pauses typing. */
export function createEditor(o: EditorOptions): EditorView {
  const root = o.parent.shadowRoot ?? o.parent.attachShadow({ mode: 'open' });
  const findingsLinter = linter(
    (view) => {
      const findings = o.check(view.state.doc.toString());
      o.onFindings(findings);
      return findings.map((f): LintDiagnostic => ({
        ...findingRange(view.state.doc, f),
        severity: f.severity,
        message: f.message,
        source: f.pointer || f.code,
      }));
    },
    { delay: 250 },
  );
  const view = new EditorView({
    root,
    parent: root,
    state: EditorState.create({
      doc: o.text,
      extensions: [
        lineNumbers(),
        foldGutter(),
        lintGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle),
        json(),
        look,
        autocompletion({ override: [schemaCompletion], icons: false }),
        schemaHover,
        findingsLinter,
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ 'aria-label': o.label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) o.onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  // The scroller (a long form scrolls sideways too) is reachable by keyboard (WCAG 2.1.1).
  view.scrollDOM.tabIndex = 0;
  view.scrollDOM.setAttribute('aria-label', o.label);
  return view;
}

/** Replace the whole text (a draft switched or uploaded). */
export function setText(view: EditorView, text: string) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

/** Put the cursor at a finding and show it. */
export function goToFinding(view: EditorView, f: Finding) {
  const { from } = findingRange(view.state.doc, f);
  view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
  view.focus();
}
