import { describe as suite, expect, it } from 'vitest';
import formSchema from '../../../../schemas/form.schema.json';
import { describe, propertiesAt, valuesAt, type Schema, type Segment } from './schema';

const root = formSchema as Schema;
/** Items' kinds by path, as the editor reads them from the document. */
const types = (entries: Record<string, string>) => (path: Segment[]) => entries[JSON.stringify(path)];

suite('help from the form schema', () => {
  it('offers the properties of the form itself, the required ones marked', () => {
    const props = propertiesAt(root, [], types({}));
    const names = props.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['id', 'version', 'title', 'languages', 'default_language', 'body', 'choices']));
    expect(props.find((p) => p.name === 'body')?.required).toBe(true);
    expect(props.find((p) => p.name === 'choices')?.required).toBe(false);
    expect(props.find((p) => p.name === 'body')?.description).toMatch(/items in order/);
  });

  it("offers an item's properties by its type: a group's are not a field's", () => {
    const field = propertiesAt(root, ['body', 0], types({ '["body",0]': 'integer' })).map((p) => p.name);
    expect(field).toEqual(expect.arrayContaining(['name', 'label', 'constraint', 'relevant', 'required']));
    expect(field).not.toContain('privacy');
    const group = propertiesAt(root, ['body', 2, 'body', 0], types({ '["body",2]': 'group', '["body",2,"body",0]': 'repeat' })).map((p) => p.name);
    expect(group).toEqual(expect.arrayContaining(['count', 'min', 'max', 'body']));
    expect(group).not.toContain('constraint');
  });

  it('offers the values a property takes, with their descriptions', () => {
    const kinds = valuesAt(root, ['body', 0, 'type'], types({}));
    expect(kinds.map((v) => v.json)).toEqual(expect.arrayContaining(['"select_one"', '"group"', '"repeat"', '"consent"']));
    const direction = valuesAt(root, ['languages', 0, 'direction'], types({}));
    expect(direction).toContainEqual({ json: '"rtl"', description: expect.stringMatching(/Right to left/) });
    expect(valuesAt(root, ['body', 0, 'required'], types({ '["body",0]': 'text' })).map((v) => v.json)).toEqual(['true', 'false']);
  });

  it('describes what is under the cursor', () => {
    expect(describe(root, ['default_language'], types({}))).toMatch(/language/i);
    expect(describe(root, ['body', 1, 'constraint'], types({ '["body",1]': 'integer' }))).toMatch(/\S/);
    expect(describe(root, ['choices', 'yes_no', 0, 'name'], types({}))).toMatch(/Value stored in the answer/);
    expect(describe(root, ['no_such_property'], types({}))).toBeNull();
  });
});
