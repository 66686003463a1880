import { createHash } from 'node:crypto';
import { isoString } from '../core/date-text';
import type { SessionChange } from '../core/stored-session';

// The Lua scripts RedisStore runs, each sent as EVALSHA and, when Redis has forgotten it (a
// restart, SCRIPT FLUSH, a cluster node that never saw it), as EVAL once.

/** The first word of the error a script answers for a key that does not hold a session. */
export const NOT_A_SESSION = 'NOTSESSION';

/**
 * Adds session `sid` to the user index `key` (a sorted set, see RedisStore's key layout), first
 * dropping the members whose session has expired by `now`, so that the set of a user who never
 * lists their sessions stays small. The score (the session's expiry, ms since the epoch) only
 * ever rises, so that it covers the session's expiry whatever order writes land in (on Cluster
 * the index is written apart from the session); the key's TTL only ever rises too, to cover its
 * longest-lived member.
 */
const JOIN_LUA = String.raw`
local function join(key, sid, expiry, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local score = redis.call('ZSCORE', key, sid)
  if not score or tonumber(score) < tonumber(expiry) then redis.call('ZADD', key, expiry, sid) end
  local px = tonumber(expiry) - tonumber(now)
  if redis.call('PTTL', key) < px then redis.call('PEXPIRE', key, px) end
end
`;

/**
 * The user index's part of a session write on standalone Redis, in the script that writes the
 * session so that both change together. A script given only the session's key (KEYS[1]) touches
 * no index: `ARGC` is then `#ARGV`. Given more keys, its ARGV ends with four more: sid, expiry
 * and now (ms since the epoch), and '1' when KEYS[2] is the index the session joins ('0' when it
 * joins none); every other key is an index the session leaves. `reindex()` runs after the write.
 */
const REINDEX_LUA =
  JOIN_LUA +
  String.raw`
local ARGC = #KEYS > 1 and #ARGV - 4 or #ARGV
local function reindex()
  if #KEYS == 1 then return end
  local sid, expiry, now = ARGV[ARGC + 1], ARGV[ARGC + 2], ARGV[ARGC + 3]
  local joins = ARGV[ARGC + 4] == '1'
  for k = 2, #KEYS do
    if k == 2 and joins then join(KEYS[k], sid, expiry, now)
    else redis.call('ZREM', KEYS[k], sid) end
  end
end
`;

/**
 * Merges one request's change into the stored JSON text, without decoding it: cjson refuses a
 * lone surrogate (an emoji cut in two) and nesting deeper than 1000, and would turn `[]` into
 * `{}`, round numbers to 14 digits and escape `/`. So the text is only scanned, to check that
 * it is an object whose `cookie` is an object and to find each member; keys are matched on
 * their JSON text (as `JSON.stringify` writes them), values are spliced in as the JSON text Node
 * wrote, and untouched members are copied byte for byte.
 * A missing key, or a record whose cookie says it expired, answers 0 and is left alone: a patch
 * never creates a session. A key that holds no session answers a NOTSESSION error and is left
 * alone too: not applied is never a success.
 * KEYS[1] key, then the index keys of REINDEX_LUA; ARGV: px, now as an ISO date, n, n × (key as
 * JSON, value as JSON), unset keys as JSON, then the index arguments.
 */
export const PATCH_LUA =
  REINDEX_LUA +
  String.raw`
local s = redis.pcall('GET', KEYS[1])
if not s then return 0 end
local function bad(why) return redis.error_reply('NOTSESSION ' .. why) end
if type(s) ~= 'string' then return bad('not a string key') end
local byte, find, sub = string.byte, string.find, string.sub
local function at(i) return i and byte(s, i) end
local function ws(i) return find(s, '[^ \t\r\n]', i) end
-- Each scanner takes where a token starts and answers where it ends (+1), or nil if malformed.
local function str(i)
  local j = i + 1
  while true do
    local q = find(s, '["\\]', j)
    if not q then return nil end
    if byte(s, q) == 92 then j = q + 2 else return q + 1 end
  end
end
local function val(i)
  local c = at(i)
  if c == 34 then return str(i) end
  if c == 123 or c == 91 then
    -- Iterative, brackets matched on a stack: any depth is fine.
    local open, j = {}, i
    repeat
      local k = find(s, '[%[%]{}"]', j)
      local b = at(k)
      if b == 34 then j = str(k)
      elseif b == 123 or b == 91 then open[#open + 1] = b + 2; j = k + 1
      elseif b and b == open[#open] then open[#open] = nil; j = k + 1
      else return nil end
    until not j or #open == 0
    return j
  end
  if not c then return nil end
  local e = find(s, '[,}%]%s]', i) or #s + 1
  local t = sub(s, i, e - 1)
  if t == 'true' or t == 'false' or t == 'null' or find(t, '^%-?%d[%d%.eE%+%-]*$') then return e end
end
-- Calls each(key start, key end, value start, value end) for every member of the object at i.
local function members(i, each)
  if at(i) ~= 123 then return nil end
  i = ws(i + 1)
  if at(i) == 125 then return i + 1 end
  while at(i) == 34 do
    local ke = str(i)
    local v = ke and ws(ke)
    if at(v) ~= 58 then return nil end
    v = ws(v + 1)
    local ve = v and val(v)
    if not ve then return nil end
    each(i, ke, v, ve)
    i = ws(ve)
    if at(i) == 125 then return i + 1 end
    if at(i) ~= 44 then return nil end
    i = ws(i + 1)
  end
end
local n, set, order, drop = tonumber(ARGV[3]), {}, {}, {}
for i = 0, n - 1 do
  local k = ARGV[4 + i * 2]
  set[k] = k .. ':' .. ARGV[5 + i * 2]
  order[#order + 1] = k
end
for i = 4 + n * 2, ARGC do drop[ARGV[i]] = true end
local parts, pos, cookie = {}, {}, nil
local e = members(ws(1), function(ks, ke, vs, ve)
  local k = sub(s, ks, ke - 1)
  -- The last of duplicate keys is the one JSON.parse keeps.
  if k == '"cookie"' then cookie = vs end
  local text = set[k] or k .. ':' .. sub(s, vs, ve - 1)
  if not drop[k] then
    if pos[k] then parts[pos[k]] = text else parts[#parts + 1] = text; pos[k] = #parts end
  end
end)
if not e or ws(e) then return bad('not a JSON object') end
if at(cookie) ~= 123 then return bad('no cookie object') end
local expires
members(cookie, function(ks, ke, vs, ve)
  if sub(s, ks, ke - 1) == '"expires"' then expires = sub(s, vs, ve - 1) end
end)
-- Two Date#toISOString() texts compare as their digits do (Lua's own string order follows the
-- locale); any other writer's expiry is left to the key's TTL.
local function digits(t) return (string.gsub(t, '%D', '')) end
if expires and find(expires, '^"%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ"$')
  and digits(expires) <= digits(ARGV[2]) then return 0 end
for _, k in ipairs(order) do
  if not pos[k] then parts[#parts + 1] = set[k]; pos[k] = #parts end
end
redis.call('SET', KEYS[1], '{' .. table.concat(parts, ',') .. '}', 'PX', ARGV[1])
reindex()
return 1
`;

/**
 * Compare-and-set for custom serializers: writes only if the key still holds what was read.
 * Answers 1 when written, 0 when the key is gone (a patch never creates), else the text now
 * there; a key that is not a string is an error.
 * KEYS[1] key, then the index keys of REINDEX_LUA; ARGV: text read, text to write, px, then the
 * index arguments.
 */
export const CAS_LUA =
  REINDEX_LUA +
  String.raw`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if cur ~= ARGV[1] then return cur end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
reindex()
return 1
`;

/**
 * A SET of a session that joins or leaves a user index, on standalone Redis: the two together.
 * KEYS[1] key, then the index keys of REINDEX_LUA; ARGV: text, px, then the index arguments.
 */
export const SET_LUA =
  REINDEX_LUA +
  String.raw`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
reindex()
return 1
`;

/**
 * Adds a session to a user index on its own: on Cluster, after the session's write, since the
 * two keys live in different slots. KEYS[1] the index; ARGV: sid, expiry, now (ms).
 */
export const INDEX_JOIN_LUA =
  JOIN_LUA +
  String.raw`
join(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return 1
`;

/**
 * A user index's members, each id followed by its score, once those whose session has expired
 * by now have been dropped. KEYS[1] the index; ARGV[1] now (ms).
 */
export const INDEX_READ_LUA = String.raw`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
`;

/**
 * Removes from a user index the members found dead on a read, each only while its score is still
 * the one that read saw: a session written since (which raises the score) was re-indexed by
 * that write, and stays. Answers how many it removed. KEYS[1] the index; ARGV: id, score, ….
 */
export const INDEX_PRUNE_LUA = String.raw`
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
`;

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** Each script's source and its SHA-1, the name EVALSHA knows it by. */
export const SCRIPTS = {
  patch: [PATCH_LUA, sha1(PATCH_LUA)],
  cas: [CAS_LUA, sha1(CAS_LUA)],
  set: [SET_LUA, sha1(SET_LUA)],
  indexJoin: [INDEX_JOIN_LUA, sha1(INDEX_JOIN_LUA)],
  indexRead: [INDEX_READ_LUA, sha1(INDEX_READ_LUA)],
  indexPrune: [INDEX_PRUNE_LUA, sha1(INDEX_PRUNE_LUA)],
} as const;

/** The name of one of {@link SCRIPTS}. */
export type ScriptName = keyof typeof SCRIPTS;

/** The ARGV of {@link PATCH_LUA} for `change`, at `now` (ms since the epoch). */
export function patchArgs(px: number, now: number, change: SessionChange): string[] {
  const set: string[] = [];
  const unset = change.unset.map((key) => JSON.stringify(key));
  for (const [key, value] of Object.entries(change.set)) {
    const json = JSON.stringify(value);
    // A value JSON leaves out (undefined, a function) removes the key, as JSON.stringify would.
    if (json === undefined) unset.push(JSON.stringify(key));
    else set.push(JSON.stringify(key), json);
  }
  return [String(px), isoString(new Date(now)), String(set.length / 2), ...set, ...unset];
}
