import { describe, expect, it } from 'vitest';
import { flattenAnswers, responseView, withMasked, type ViewNode } from './responseView';
import type { AnswerTree, FieldDef } from './types';

const field = (path: string, repeat: string | null = null, type = 'text'): FieldDef => ({
  path,
  name: path.split('/').pop()!,
  type,
  label: { en: path },
  group: null,
  repeat,
  pii: false,
  sensitive: false,
  disaggregation: null,
  choices: null,
});

const answers: AnswerTree = {
  village: 'Kijiji 4',
  member: [
    { member_name: 'Grace', child: [{ child_age: '3' }, { child_age: '5' }] },
    { member_name: 'Paul' },
  ],
  hh_size: '2',
};

describe('flattenAnswers', () => {
  it('gives every answer its flat path and every repeat its count', () => {
    expect(Object.fromEntries(flattenAnswers(answers))).toEqual({
      '/village': 'Kijiji 4',
      '/member[]': '2',
      '/member[1]/member_name': 'Grace',
      '/member[1]/child[]': '2',
      '/member[1]/child[1]/child_age': '3',
      '/member[1]/child[2]/child_age': '5',
      '/member[2]/member_name': 'Paul',
      '/hh_size': '2',
    });
  });
});

function outline(nodes: ViewNode[]): unknown[] {
  return nodes.map((n) =>
    n.kind === 'field' ? `${n.path}=${typeof n.value === 'object' && n.value !== null ? 'hidden' : (n.value ?? '∅')}` : { [n.path]: n.instances.map((i) => outline(i.nodes)) },
  );
}

describe('withMasked', () => {
  it('marks the pii answers the server left out as hidden, not as unanswered', () => {
    const fields = [field('/village'), field('/resp_name'), field('/member/member_name', '/member')];
    const flat = withMasked(flattenAnswers({ village: 'Kijiji 4', member: [{}] }), ['/resp_name', '/member[1]/member_name']);
    expect(outline(responseView(fields, flat))).toEqual([
      '/village=Kijiji 4',
      '/resp_name=hidden',
      { '/member': [['/member[1]/member_name=hidden']] },
    ]);
    expect(flat.get('/resp_name')).toEqual({ masked: true });
  });
});

describe('responseView', () => {
  it('lays out fields in form order with repeats, nested repeats and unanswered fields', () => {
    const fields = [
      field('/village'),
      field('/member/member_name', '/member'),
      field('/member/child/child_age', '/member/child'),
      field('/hh_size'),
      field('/notes'),
    ];
    expect(outline(responseView(fields, flattenAnswers(answers)))).toEqual([
      '/village=Kijiji 4',
      {
        '/member': [
          ['/member[1]/member_name=Grace', { '/member[1]/child': [['/member[1]/child[1]/child_age=3'], ['/member[1]/child[2]/child_age=5']] }],
          ['/member[2]/member_name=Paul', { '/member[2]/child': [] }],
        ],
      },
      '/hh_size=2',
      '/notes=∅',
    ]);
  });

  it('shows a repeat with no entries', () => {
    const view = responseView([field('/member/member_name', '/member')], new Map());
    expect(view).toEqual([{ kind: 'repeat', repeat: '/member', name: 'member', path: '/member', instances: [] }]);
  });
});
