import { createHash } from 'node:crypto';
import type { SessionChange } from '../core/stored-session';

// The Lua scripts RedisStore runs, each sent as EVALSHA and, when Redis has forgotten it (a
// restart, SCRIPT FLUSH, a cluster node that never saw it), as EVAL once.

/**
 * Merges one request's change into the stored JSON text. Values are spliced in as the JSON text
 * Node wrote, and untouched values are copied byte for byte: decoding and re-encoding them with
 * cjson would turn `[]` into `{}`, round numbers to 14 digits and escape `/`.
 * KEYS[1] key; ARGV: px, whole session to write when the record is gone or bad ('' to write
 * nothing then), n, n × (key, key as JSON, value as JSON), unset keys.
 */
export const PATCH_LUA = String.raw`
local s = redis.pcall('GET', KEYS[1])
local out = ARGV[2]
local ok, doc = false, nil
if type(s) == 'string' then ok, doc = pcall(cjson.decode, s) end
if ok and type(doc) == 'table' and type(doc.cookie) == 'table' then
  local n, set, order, drop = tonumber(ARGV[3]), {}, {}, {}
  for i = 0, n - 1 do
    local k = ARGV[4 + i * 3]
    set[k] = ARGV[5 + i * 3] .. ':' .. ARGV[6 + i * 3]
    order[#order + 1] = k
  end
  for i = 4 + n * 3, #ARGV do drop[ARGV[i]] = true end
  local function ws(i) return string.find(s, '[^ \t\r\n]', i) end
  local function str(i)
    local j = i + 1
    while true do
      local q = string.find(s, '["\\]', j)
      if string.byte(s, q) == 92 then j = q + 2 else return q + 1 end
    end
  end
  local function val(i)
    local c = string.byte(s, i)
    if c == 34 then return str(i) end
    if c ~= 123 and c ~= 91 then return string.find(s, '[,}%]%s]', i) end
    local depth, j = 0, i
    while true do
      local k = string.find(s, '[%[%]{}"]', j)
      local b = string.byte(s, k)
      if b == 34 then j = str(k) else
        if b == 123 or b == 91 then depth = depth + 1 else depth = depth - 1 end
        j = k + 1
        if depth == 0 then return j end
      end
    end
  end
  local parts, at = {}, {}
  local i = ws(ws(1) + 1)
  while string.byte(s, i) == 34 do
    local e = str(i)
    local raw = string.sub(s, i, e - 1)
    local k = string.find(raw, '\\', 1, true) and cjson.decode(raw) or string.sub(raw, 2, -2)
    local v = ws(ws(e) + 1)
    local ve = val(v)
    local text = set[k] or raw .. ':' .. string.sub(s, v, ve - 1)
    if not drop[k] then
      if at[k] then parts[at[k]] = text else parts[#parts + 1] = text; at[k] = #parts end
    end
    i = ws(ve)
    if string.byte(s, i) == 44 then i = ws(i + 1) end
  end
  for _, k in ipairs(order) do
    if not at[k] then parts[#parts + 1] = set[k]; at[k] = #parts end
  end
  out = '{' .. table.concat(parts, ',') .. '}'
elseif out == '' then
  return 0
end
redis.call('SET', KEYS[1], out, 'PX', ARGV[1])
return 1
`;

/** Compare-and-set for custom serializers: writes only if the key still holds what was read. */
export const CAS_LUA = String.raw`
local cur = redis.pcall('GET', KEYS[1])
if type(cur) ~= 'string' then cur = false end
if (ARGV[1] == '1') ~= (cur ~= false) or (cur and cur ~= ARGV[2]) then return cur or 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
`;

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** Each script's source and its SHA-1, the name EVALSHA knows it by. */
export const SCRIPTS = {
  patch: [PATCH_LUA, sha1(PATCH_LUA)],
  cas: [CAS_LUA, sha1(CAS_LUA)],
} as const;

/** The name of one of {@link SCRIPTS}. */
export type ScriptName = keyof typeof SCRIPTS;

/**
 * The ARGV of {@link PATCH_LUA} for `change`: `whole` is the session to write when the record is
 * gone or bad ('' to write nothing then, as `touch` wants).
 */
export function patchArgs(px: number, whole: string, change: SessionChange): string[] {
  const set: string[] = [];
  const unset = [...change.unset];
  for (const [key, value] of Object.entries(change.set)) {
    const json = JSON.stringify(value);
    // A value JSON leaves out (undefined, a function) removes the key, as JSON.stringify would.
    if (json === undefined) unset.push(key);
    else set.push(key, JSON.stringify(key), json);
  }
  return [String(px), whole, String(set.length / 3), ...set, ...unset];
}
