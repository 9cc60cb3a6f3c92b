// Checks init's options against the table core defines (config::schema, generated into
// options-schema.js by scripts/build-pkg), synchronously, before the wasm has arrived. Returns
// a copy holding only what was checked, each value read once (a getter cannot answer
// differently when the engine reads it), or throws one Error naming the field.
import schema from './options-schema.js';

// The longest array read from an options object (a proxy may claim any length).
const MAX_ITEMS = 10000;
const MAX_COUNT = 4294967295;

function fail(field, problem) {
  throw new Error(`edge-telemetry init: option \`${field}\` ${problem}`);
}

function typeName(v) {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'array' : typeof v;
}

const wrongType = (field, want, v) => fail(field, `must be ${want}, got ${typeName(v)}`);

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function read(obj, key, field) {
  try {
    return obj[key];
  } catch (_) {
    return fail(field, 'could not be read');
  }
}

function items(v, field) {
  let n;
  try {
    n = v.length;
  } catch (_) { /* below */ }
  if (!(n >= 0 && n <= MAX_ITEMS)) fail(field, 'could not be read');
  const out = [];
  for (let i = 0; i < n; i++) out.push(read(v, i, `${field}[${i}]`));
  return out;
}

function ownKeys(obj, field) {
  try {
    return Reflect.ownKeys(obj);
  } catch (_) {
    return fail(field, 'could not be read');
  }
}

function isAttributeValue(v) {
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return true;
  if (!Array.isArray(v) || v.length > MAX_ITEMS) return false;
  const first = v.length ? typeof v[0] : 'string';
  return (first === 'string' || first === 'number' || first === 'boolean') && v.every((x) => typeof x === first);
}

function checkRules(v, field) {
  const list = Array.isArray(v) ? items(v, field) : [v];
  list.forEach((rule, i) => {
    const name = Array.isArray(v) ? `${field}[${i}]` : field;
    if (rule instanceof RegExp) return;
    if (typeof rule !== 'string') wrongType(name, 'a string or a RegExp', rule);
    if (rule === '') fail(name, 'must not be an empty string');
  });
  return list;
}

function checkUrl(v, field) {
  if (typeof v !== 'string') wrongType(field, 'a string', v);
  if (v.trim() === '') fail(field, 'must not be empty');
  let url;
  try {
    const loc = globalThis.location;
    url = new URL(v, loc ? loc.href : undefined);
  } catch (_) { /* below */ }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) fail(field, 'must be an http or https URL');
  return v;
}

function checkCount(v, field, o, given) {
  if (typeof v !== 'number') wrongType(field, 'a number', v);
  if (!Number.isInteger(v) || v < 0 || v > MAX_COUNT) fail(field, `must be a whole number from 0 to ${MAX_COUNT}`);
  if (v < o.min) fail(field, `must be at least ${o.min}`);
  const sibling = (name) => {
    const s = given[name];
    if (s !== undefined) return s;
    const def = schemaOf(o.group, name);
    return def ? def.default : undefined;
  };
  const prefix = field.slice(0, field.length - o.name.length);
  if (o.notAbove && v > sibling(o.notAbove)) fail(field, `must not exceed ${prefix}${o.notAbove}`);
  if (o.notBelow && v < sibling(o.notBelow)) fail(field, `must not be less than ${prefix}${o.notBelow}`);
  return v;
}

const schemaOf = (group, name) => group.find((o) => o.name === name);

function check(v, o, field, given) {
  if (o.ifTrue && given[o.ifTrue[0]] === true && v !== o.ifTrue[1]) {
    const prefix = field.slice(0, field.length - o.name.length);
    fail(field, `must be "${o.ifTrue[1]}" when ${prefix}${o.ifTrue[0]} is true, got ${JSON.stringify(v)}`);
  }
  switch (o.kind) {
    case 'bool':
      if (typeof v !== 'boolean') wrongType(field, 'a boolean', v);
      return v;
    case 'text':
      if (typeof v !== 'string') wrongType(field, 'a string', v);
      if (o.nonEmpty && v.trim() === '') fail(field, 'must not be empty');
      if (o.maxChars !== undefined && [...v].length > o.maxChars) fail(field, `must be at most ${o.maxChars} characters`);
      return v;
    case 'url':
      return checkUrl(v, field);
    case 'oneOf':
      if (typeof v !== 'string') wrongType(field, 'a string', v);
      if (!o.values.includes(v)) fail(field, `must be ${o.values.map((x) => `"${x}"`).join(' or ')}, got "${v}"`);
      return v;
    case 'count':
      return checkCount(v, field, o, given);
    case 'subset': {
      if (!Array.isArray(v)) wrongType(field, 'an array of strings', v);
      const list = items(v, field);
      list.forEach((s, i) => {
        if (!o.values.includes(s)) fail(`${field}[${i}]`, `must be ${o.values.map((x) => `"${x}"`).join(', ')}, got ${typeof s === 'string' ? `"${s}"` : typeName(s)}`);
        if (list.indexOf(s) !== i) fail(`${field}[${i}]`, `repeats "${s}"`);
      });
      return list;
    }
    case 'rules':
      return checkRules(v, field);
    case 'strings': {
      if (!Array.isArray(v)) wrongType(field, 'an array of strings', v);
      const list = items(v, field);
      list.forEach((s, i) => {
        if (typeof s !== 'string' || (o.nonEmpty && s === '')) wrongType(`${field}[${i}]`, o.nonEmpty ? 'a non-empty string' : 'a string', s);
      });
      return list;
    }
    case 'attributes':
    case 'headers': {
      if (!isPlainObject(v)) wrongType(field, 'an object', v);
      const copy = {};
      for (const k of ownKeys(v, field)) {
        const name = typeof k === 'string' ? k : '<symbol>';
        const x = read(v, k, `${field}.${name}`);
        if (o.kind === 'headers') {
          if (typeof x !== 'string') wrongType(`${field}.${name}`, 'a string', x);
        } else if (typeof k !== 'string' || k === '' || !isAttributeValue(x)) {
          fail(`${field}.${name}`, 'must be a string, number, boolean or an array of one of those');
        }
        copy[k] = x;
      }
      return copy;
    }
    case 'object':
      if (!isPlainObject(v)) wrongType(field, 'an object', v);
      return v;
    case 'function':
      if (typeof v !== 'function') wrongType(field, 'a function', v);
      return v;
    default:
      if (!isPlainObject(v)) wrongType(field, 'an object', v);
      return checkGroup(v, o.options, `${field}.`);
  }
}

function checkGroup(obj, group, prefix) {
  for (const k of ownKeys(obj, prefix.slice(0, -1) || 'options')) {
    if (typeof k !== 'string' || !schemaOf(group, k)) {
      fail(`${prefix}${typeof k === 'string' ? k : '<symbol>'}`, `is not a known option (known: ${group.map((o) => o.name).join(', ')})`);
    }
  }
  const given = {};
  for (const o of group) {
    const v = read(obj, o.name, `${prefix}${o.name}`);
    if (v !== undefined) given[o.name] = v;
  }
  const out = {};
  for (const o of group) {
    if (given[o.name] !== undefined) out[o.name] = check(given[o.name], { ...o, group }, `${prefix}${o.name}`, given);
  }
  return out;
}

/**
 * init's options, checked: a copy with the validated values. Throws an Error naming the
 * first bad field.
 */
export function checkOptions(options) {
  if (options === undefined || options === null) return {};
  if (!isPlainObject(options)) wrongType('options', 'an object', options);
  return checkGroup(options, schema, '');
}

/** The default of option `name` in group `group` (e.g. 'batch', 'exportTimeoutMillis'). */
export function defaultOf(group, name) {
  const g = schemaOf(schema, group);
  const o = g && schemaOf(g.options, name);
  return o && o.default;
}
