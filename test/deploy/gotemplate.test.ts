/**
 * The Go-template subset renderer the chart test uses (gotemplate.ts): each expected output is
 * what Go's text/template with Helm's functions prints for the same template and data.
 */
import { describe, expect, it } from 'vitest';
import { goString, parseTemplates, renderFile, TemplateFailure } from './gotemplate';

const render = (text: string, data: unknown = {}, defines = '', strict = false) =>
  renderFile(parseTemplates({ '_helpers.tpl': defines, 't.yaml': text }), 't.yaml', data, { strict });

describe('Go template subset', () => {
  it('trims whitespace at {{- and -}}, newlines included, and leaves it elsewhere', () => {
    expect(render('a  \n  {{- "b" -}}  \n  c')).toBe('abc');
    expect(render('a\n{{ "b" }}\nc')).toBe('a\nb\nc');
    expect(render('x:\n  {{- if true }}\n  y: 1\n  {{- end }}\nz: 2')).toBe('x:\n  y: 1\nz: 2');
    expect(render('{{/* a comment */}}a {{- /* trimmed */ -}} b')).toBe('ab');
  });

  it('tests Go truth in if, else if, else and with; with rebinds the dot', () => {
    const t = '{{ if .a }}A{{ else if .b }}B{{ else if .c }}C{{ else }}D{{ end }}';
    expect(render(t, { a: 1 })).toBe('A');
    expect(render(t, { a: 0, b: 'x' })).toBe('B');
    expect(render(t, { a: {}, b: [], c: true })).toBe('C');
    expect(render(t, { a: '', b: null, c: false })).toBe('D');
    expect(render('{{ with .m }}{{ .k }}{{ else }}none{{ end }}', { m: { k: 'v' } })).toBe('v');
    expect(render('{{ with .m }}{{ .k }}{{ else }}none{{ end }}', { m: {} })).toBe('none');
  });

  it('ranges over lists and over maps in key order, with variables and $ for the root', () => {
    expect(render('{{ range .l }}[{{ . }}]{{ end }}', { l: ['a', 'b'] })).toBe('[a][b]');
    expect(render('{{ range $k, $v := .m }}{{ $k }}={{ $v }}{{ $.sep }}{{ end }}', { m: { b: 2, a: 1 }, sep: ';' })).toBe('a=1;b=2;');
    expect(render('{{ range $i, $x := .l }}{{ $i }}{{ $x }}{{ end }}', { l: ['a', 'b'] })).toBe('0a1b');
    expect(render('{{ range .l }}x{{ else }}empty{{ end }}', { l: [] })).toBe('empty');
    expect(render('{{ $n := .a }}{{ if true }}{{ $n }}{{ end }}', { a: 'v' })).toBe('v');
  });

  it("has Helm's functions: include, nindent, toYaml with sorted keys, default, quote, printf, trunc, trimSuffix", () => {
    const defines = '{{- define "name" -}}{{ .n | trunc 5 | trimSuffix "-" }}{{- end }}';
    expect(render('{{ include "name" . }}', { n: 'abcd-efgh' }, defines)).toBe('abcd');
    expect(render('k:\n  {{- toYaml .m | nindent 2 }}', { m: { z: 1, a: { c: [1, 'two'] } } })).toBe('k:\n  a:\n    c:\n      - 1\n      - two\n  z: 1');
    expect(render('{{ toYaml .m }}', { m: {} })).toBe('{}');
    expect(render('{{ .x | default "d" }} {{ .y | default "d" }}', { x: '', y: 'y' })).toBe('d y');
    expect(render('{{ .s | quote }}|{{ .missing | quote }}|{{ 3 | quote }}', { s: 'a"b' })).toBe('"a\\"b"||"3"');
    expect(render('{{ printf "%s-%d" .a .b }}', { a: 'x', b: 7 })).toBe('x-7');
    expect(render('{{ if and .a (not .b) }}yes{{ end }}{{ if or .b .c }}or{{ end }}', { a: 1, b: 0, c: 'c' })).toBe('yesor');
    expect(render('{{ if gt (int .r) 1 }}many{{ end }}', { r: 3 })).toBe('many');
    expect(render('{{ if and (not (eq .a "x")) (not (not .b)) }}nested{{ end }}', { a: 'y', b: 1 })).toBe('nested');
  });

  it('prints numbers as Go prints a float64', () => {
    expect(goString(3)).toBe('3');
    expect(goString(0.5)).toBe('0.5');
    expect(goString(100000)).toBe('100000');
    expect(goString(1000000)).toBe('1e+06');
    expect(goString(1234567)).toBe('1.234567e+06');
    expect(goString(0.00001)).toBe('1e-05');
    expect(render('{{ int .n }}', { n: 1000000 })).toBe('1000000');
  });

  it('fails where Go fails: a field of nil, fail, an unknown function or construct, a missing key when strict', () => {
    expect(() => render('{{ .a.b.c }}', { a: {} })).toThrow(/nil pointer evaluating \.a\.b\.c/);
    expect(render('{{ .a.b }}', { a: {} })).toBe('');
    expect(() => render('{{ .a.b }}', { a: {} }, '', true)).toThrow(/no entry for key "b"/);
    expect(() => render('{{ fail "replicas need PostgreSQL" }}')).toThrow(TemplateFailure);
    expect(() => render('{{ lookup "v1" "Secret" "" "" }}')).toThrow(/"lookup" is not in the renderer's subset/);
    expect(() => render('{{ template "x" . }}')).toThrow(/not in the renderer's subset/);
    expect(() => render('{{ if .a }}open')).toThrow(/not closed/);
    expect(() => render('{{ end }}')).toThrow(/end without a block/);
    expect(() => render('{{ eq .a 1 }}', { a: 'one' })).toThrow(/incompatible types/);
    expect(() => render('{{ .m }}', { m: { a: 1 } })).toThrow(/use toYaml/);
    // A number from values is a float64, a literal an int: Go refuses to compare them.
    expect(() => render('{{ gt .r 1 }}', { r: 3 })).toThrow(/incompatible types/);
  });
});
