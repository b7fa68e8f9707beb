// The proof verifier of the page, ported from the Swift one so that a citizen's browser checks
// what `cinnabar verify` checks: RFC 9162 inclusion and consistency proofs
// (Sources/MerkleLog/Proofs.swift), C2SP signed notes, verifier keys, checkpoints and tlog-policy
// (Sources/SignedNote/), the block trailer (Sources/Ledger/BlockTrailer.swift, Specs/ledger-format.md
// §3), validator sets, their change leaves and the epochs a light client follows from the pinned
// genesis set (Sources/Ledger/ValidatorSet.swift, ValidatorSetChange.swift, ValidatorEpochs.swift),
// eddsa-jcs-2022 record signatures (Sources/Records/Integrity/DataIntegrity.swift) and the offline
// proof bundle (Sources/Node/ProofBundle.swift). WebCrypto only (SHA-256, Ed25519); the
// same file runs under Node.js for the tests (Tests/Web/verifier.test.mjs).
import {
  base58btcDecode, base64Decode, base64Encode, bytesEqual, concat, hexDecode, readUintBE, utf8, utf8Decode,
} from "./encoding.mjs";

/** A rejection with a stable machine code (the Swift error's `code`) and a one-line reason. */
export class VerifyError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new VerifyError("no_webcrypto", "this browser offers no WebCrypto here (the page needs HTTPS or localhost)");
  return s;
}

// MARK: - RFC 6962 hashing

/** SHA-256 of `bytes`. */
export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", bytes));
}

/** RFC 6962 §2.1: MTH({d}) = SHA-256(0x00 ‖ d). */
export function leafHash(data) {
  return sha256(concat(Uint8Array.of(0x00), data));
}

/** RFC 6962 §2.1: an interior node is SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(0x01), left, right));
}

// MARK: - RFC 9162 proofs. Sizes and indices are BigInt (u64), as in the Swift code.

function big(n, what) {
  if (typeof n === "bigint") return n;
  if (!Number.isSafeInteger(n) || n < 0) throw new VerifyError("invalid_number", `${what} ${n} is not a non-negative integer`);
  return BigInt(n);
}

/** The largest power of two strictly below n (n ≥ 2): the split point k of RFC 9162 §2.1.1. */
function largestPowerOfTwoBelow(n) {
  let k = 1n;
  while (k << 1n < n) k <<= 1n;
  return k;
}

/** The number of hashes in PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), index < size. */
export function inclusionProofLength(index, size) {
  let lo = 0n, hi = big(size, "size"), m = big(index, "index"), count = 0;
  while (hi - lo > 1n) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m < k) hi = lo + k;
    else { lo += k; m -= k; }
    count++;
  }
  return count;
}

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2) of the leaf with hash `leaf` at `index` in the
 * tree (`size`, `root`); throws index_out_of_range, wrong_proof_length or root_mismatch.
 */
export async function verifyInclusion(leaf, index, size, proof, root) {
  const i = big(index, "index"), n = big(size, "size");
  if (i >= n) throw new VerifyError("index_out_of_range", `leaf index ${i} is not in a tree of size ${n}`);
  const expected = inclusionProofLength(i, n);
  if (proof.length !== expected) throw new VerifyError("wrong_proof_length", `proof has ${proof.length} hashes, expected ${expected}`);
  let fn = i, sn = n - 1n, r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new VerifyError("wrong_proof_length", `proof has ${proof.length} hashes, expected ${expected}`);
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n || !bytesEqual(r, root)) throw new VerifyError("root_mismatch", "proof does not lead to the expected root");
}

/** The number of hashes in PROOF(from, D[0:to]) (RFC 9162 §2.1.4.1), 0 < from < to. */
export function consistencyProofLength(from, to) {
  let lo = 0n, hi = big(to, "to"), m = big(from, "from"), complete = true, count = 0;
  for (;;) {
    if (m === hi - lo) { if (!complete) count++; return count; }
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m <= k) hi = lo + k;
    else { lo += k; m -= k; complete = false; }
    count++;
  }
}

/** The SHA-256 of the empty string: the root of the empty tree. */
const EMPTY_ROOT = base64Decode("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");

/**
 * Verifies that (`from`, `fromRoot`) is a prefix of (`to`, `toRoot`) by RFC 9162 §2.1.4.2; throws
 * size_out_of_range, wrong_proof_length, empty_proof or root_mismatch.
 */
export async function verifyConsistency(from, fromRoot, to, toRoot, proof) {
  const m = big(from, "from"), n = big(to, "to");
  if (m > n) throw new VerifyError("size_out_of_range", `cannot prove consistency from size ${m} to size ${n}`);
  if (m === n || m === 0n) {
    if (proof.length !== 0) throw new VerifyError("wrong_proof_length", `proof has ${proof.length} hashes, expected 0`);
    if (!bytesEqual(fromRoot, m === 0n ? EMPTY_ROOT : toRoot)) throw new VerifyError("root_mismatch", "proof does not lead to the expected root");
    return;
  }
  if (proof.length === 0) throw new VerifyError("empty_proof", "consistency proof is empty");
  const expected = consistencyProofLength(m, n);
  if (proof.length !== expected) throw new VerifyError("wrong_proof_length", `proof has ${proof.length} hashes, expected ${expected}`);
  const path = (m & (m - 1n)) === 0n ? [fromRoot, ...proof] : proof; // step 2: from is a power of two
  let fn = m - 1n, sn = n - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; } // step 4
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new VerifyError("wrong_proof_length", `proof has ${proof.length} hashes, expected ${expected}`);
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n || !bytesEqual(fr, fromRoot) || !bytesEqual(sr, toRoot)) throw new VerifyError("root_mismatch", "proof does not lead to the expected root");
}

/** Base64 hashes of a proof as bytes; throws malformed_proof unless each is 32 bytes. */
export function decodeHashes(list, what = "proof") {
  if (!Array.isArray(list)) throw new VerifyError("malformed_proof", `${what} is not a list`);
  return list.map((h) => {
    const bytes = base64Decode(h);
    if (!bytes || bytes.length !== 32) throw new VerifyError("malformed_proof", `${what} holds ${JSON.stringify(h)}, not the base64 of 32 bytes`);
    return bytes;
  });
}

// MARK: - Ed25519 through WebCrypto

/**
 * Whether this browser's WebCrypto verifies Ed25519 (Chrome 137+, Firefox 129+, Safari 17+,
 * Node 20). When it does not, the page says it could not check signatures; it never pretends.
 */
export async function ed25519Available() {
  try {
    const key = await subtle().importKey("raw", RFC8032_TEST1.publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await subtle().verify({ name: "Ed25519" }, key, RFC8032_TEST1.signature, new Uint8Array(0));
  } catch {
    return false;
  }
}

/** RFC 8032 §7.1 TEST 1 (the empty message): a self-test that this device's Ed25519 works. */
const RFC8032_TEST1 = {
  publicKey: hexDecode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
  signature: hexDecode("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
};

/** Whether `signature` is a valid Ed25519 signature of `message` by the 32-byte `publicKey`. */
export async function ed25519Verify(publicKey, signature, message) {
  if (signature.length !== 64) return false;
  let key;
  try {
    key = await subtle().importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    if (e && e.name === "NotSupportedError") throw new VerifyError("ed25519_unavailable", "this browser cannot verify Ed25519 signatures");
    return false; // not a valid curve point: no signature verifies
  }
  return subtle().verify({ name: "Ed25519" }, key, signature, message);
}

// MARK: - C2SP signed notes (c2sp.org/signed-note), as Sources/SignedNote/Note.swift

const NOTE_MAX_BYTES = 128 * 1024;
const NOTE_MAX_SIGNATURES = 64;
const EM_DASH_SPACE = "\u2014 ";

/** signed-note §Format: key names are non-empty, without Unicode spaces, "+" or control characters. */
function isValidKeyName(name) {
  return name.length > 0 && !/[+\s\u0000-\u001f]/u.test(name);
}

function firstControlCharacter(text) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return c;
  }
  return null;
}

const hex2 = (n) => n.toString(16).padStart(2, "0");
const hex8 = (n) => (n >>> 0).toString(16).padStart(8, "0");

/**
 * Parses a signed note: text ending in a newline, a blank line, then one or more signature lines
 * `— <key name> base64(key ID ‖ signature)`. The text separates at the last blank line. Throws
 * note_too_large, too_many_signatures, duplicate_signature or malformed_note.
 */
export function parseNote(note) {
  if (typeof note !== "string") throw new VerifyError("malformed_note", "the note is not text");
  const size = utf8(note).length;
  if (size > NOTE_MAX_BYTES) throw new VerifyError("note_too_large", `note is ${size} bytes, more than ${NOTE_MAX_BYTES}`);
  const bad = firstControlCharacter(note);
  if (bad !== null) throw new VerifyError("malformed_note", `control character 0x${hex2(bad)} in the note`);
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new VerifyError("malformed_note", "no blank line between the text and the signature lines");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0) throw new VerifyError("malformed_note", "no signature lines after the blank line");
  if (!block.endsWith("\n")) throw new VerifyError("malformed_note", "the last signature line does not end in a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > NOTE_MAX_SIGNATURES) throw new VerifyError("too_many_signatures", `${lines.length} signature lines, more than ${NOTE_MAX_SIGNATURES}`);
  const seen = new Set();
  const signatures = lines.map((line) => {
    if (!line.startsWith(EM_DASH_SPACE)) throw new VerifyError("malformed_note", `signature line ${JSON.stringify(line)} does not start with an em dash and a space`);
    const rest = line.slice(EM_DASH_SPACE.length);
    const space = rest.indexOf(" ");
    const keyName = space < 0 ? rest : rest.slice(0, space);
    if (space < 0 || !isValidKeyName(keyName)) throw new VerifyError("malformed_note", `signature line ${JSON.stringify(line)} has no valid key name followed by a space`);
    const decoded = base64Decode(rest.slice(space + 1));
    if (!decoded || decoded.length < 5) throw new VerifyError("malformed_note", `signature line ${JSON.stringify(line)} does not end in base64 of a key ID and a signature`);
    const keyID = Number(readUintBE(decoded.subarray(0, 4)));
    const id = `${hex8(keyID)} ${keyName}`;
    if (seen.has(id)) throw new VerifyError("duplicate_signature", `two signature lines from ${keyName}+${hex8(keyID)}`);
    seen.add(id);
    return { keyName, keyID, signature: decoded.subarray(4) };
  });
  return { text, signatures };
}

/** signed-note §Signatures: key ID = SHA-256(name ‖ 0x0A ‖ type ‖ key material)[:4], big-endian. */
export async function keyID(name, type, keyMaterial) {
  const digest = await sha256(concat(utf8(name), Uint8Array.of(0x0a, type), keyMaterial));
  return Number(readUintBE(digest.subarray(0, 4)));
}

/** Signature types this verifier implements: 0x01 Ed25519, 0x04 cosignature/v1. */
export const KEY_TYPE = Object.freeze({ ed25519: 0x01, cosignatureV1: 0x04 });

/**
 * Parses a verifier key `name+hex8(keyID)+base64(type ‖ public key)` and checks the ID against
 * the key; throws bad_key or unknown_key_type.
 */
export async function parseVerifierKey(vkey) {
  if (typeof vkey !== "string") throw new VerifyError("bad_key", "a verifier key is text");
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  if (second < 0) throw new VerifyError("bad_key", `${JSON.stringify(vkey)} is not name+hex8+base64`);
  const name = vkey.slice(0, first), idText = vkey.slice(first + 1, second);
  if (!isValidKeyName(name)) throw new VerifyError("bad_key", `invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-fA-F]{8}$/.test(idText)) throw new VerifyError("bad_key", `key ID ${JSON.stringify(idText)} is not 8 hex digits`);
  const material = base64Decode(vkey.slice(second + 1));
  if (!material || material.length === 0) throw new VerifyError("bad_key", `key data of ${JSON.stringify(vkey)} is not non-empty standard base64`);
  const type = material[0];
  if (type !== KEY_TYPE.ed25519 && type !== KEY_TYPE.cosignatureV1) throw new VerifyError("unknown_key_type", `key type 0x${hex2(type)} of ${JSON.stringify(vkey)} is not implemented`);
  if (material.length !== 33) throw new VerifyError("bad_key", `key ${JSON.stringify(vkey)} has ${material.length - 1} key bytes, an Ed25519 key has 32`);
  const publicKey = material.subarray(1);
  const id = await keyID(name, type, publicKey);
  if (id !== parseInt(idText, 16)) throw new VerifyError("bad_key", `key ID ${idText} does not match the key, which has ID ${hex8(id)}`);
  return { name, type, publicKey, keyID: id, vkey };
}

/** tlog-cosignature: the message a cosignature/v1 key signs. */
function cosignedMessage(text, timestamp) {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

async function isValidSignature(key, signature, text) {
  if (key.type === KEY_TYPE.ed25519) return ed25519Verify(key.publicKey, signature, utf8(text));
  if (signature.length !== 72) return false; // 8-byte timestamp ‖ 64-byte signature
  const timestamp = readUintBE(signature.subarray(0, 8));
  if (timestamp > 0x7fffffffffffffffn) return false;
  return ed25519Verify(key.publicKey, signature.subarray(8), cosignedMessage(text, timestamp));
}

/**
 * The known keys whose signatures on the note verify, possibly none (signed-note §Signatures):
 * lines from unknown keys are ignored; a line whose name and ID match a known key MUST verify,
 * else the whole note is rejected with signature_invalid.
 */
export async function verifiedKeys(note, keys) {
  const verified = new Set();
  for (const line of note.signatures) {
    const candidates = keys.filter((k) => k.keyID === line.keyID && k.name === line.keyName);
    if (candidates.length === 0) continue;
    let good = false;
    for (const k of candidates) {
      if (await isValidSignature(k, line.signature, note.text)) { verified.add(k); good = true; }
    }
    if (!good) throw new VerifyError("signature_invalid", `the signature of ${line.keyName}+${hex8(line.keyID)} does not verify`);
  }
  return keys.filter((k) => verified.has(k));
}

/**
 * Parses a C2SP tlog-checkpoint body: origin, size (a decimal without leading zeroes), base64 of
 * the 32-byte root, each on its own line, then optional non-empty extension lines.
 */
export function parseCheckpoint(text) {
  if (!text.endsWith("\n")) throw new VerifyError("malformed_checkpoint", "text does not end in a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new VerifyError("malformed_checkpoint", `${lines.length} line(s); origin, size and root hash are required`);
  if (lines[0].length === 0) throw new VerifyError("malformed_checkpoint", "empty origin line");
  if (!/^(0|[1-9][0-9]*)$/.test(lines[1]) || BigInt(lines[1]) > 0xffffffffffffffffn) throw new VerifyError("malformed_checkpoint", `tree size ${JSON.stringify(lines[1])} is not a decimal without leading zeroes`);
  const root = base64Decode(lines[2]);
  if (!root || root.length !== 32) throw new VerifyError("malformed_checkpoint", `root hash ${JSON.stringify(lines[2])} is not the base64 of 32 bytes`);
  if (lines.slice(3).some((l) => l.length === 0)) throw new VerifyError("malformed_checkpoint", "extension lines must be non-empty");
  return { origin: lines[0], size: BigInt(lines[1]), root, extensions: lines.slice(3) };
}

// MARK: - C2SP tlog-policy, as Sources/SignedNote/TlogPolicy.swift

const POLICY_MAX_BYTES = 256 * 1024;

/**
 * Parses a tlog-policy file (log, witness, group, quorum lines; "#" comments; blank lines) and
 * checks its rules: names defined before use, each name a member of one group at most,
 * thresholds between 1 and n, no key listed twice, exactly one quorum line.
 */
export async function parsePolicy(text) {
  if (typeof text !== "string" || utf8(text).length > POLICY_MAX_BYTES) throw new VerifyError("malformed_policy", "the policy is not text of at most 256 KiB");
  const logs = [], witnesses = [], groups = new Map(), names = new Set(), memberOf = new Map(), keys = new Set();
  let quorum;
  const fail = (line, why) => { throw new VerifyError("malformed_policy", `policy line ${line}: ${why}`); };
  const isItem = (s) => s.length > 0 && !/[\u0000-\u0020\u007f]/.test(s);
  const define = (name, line) => {
    if (!isItem(name) || name === "none" || names.has(name)) fail(line, `${JSON.stringify(name)} cannot be defined here`);
    names.add(name);
  };
  const claim = async (vkey, line) => {
    let key;
    try { key = await parseVerifierKey(vkey); } catch (e) { fail(line, e.message); }
    const id = base64Encode(key.publicKey);
    if (keys.has(id)) fail(line, "the same public key is listed twice");
    keys.add(id);
    return key;
  };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i], line = i + 1;
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(raw)) fail(line, "control characters are not allowed");
    const items = raw.split(/[ \t]+/).filter((s) => s.length > 0);
    if (items.length === 0 || items[0].startsWith("#")) continue;
    const [keyword, ...args] = items;
    if (keyword === "log") {
      if (args.length < 1 || args.length > 2) fail(line, "expected log <vkey> [<url>]");
      logs.push({ key: await claim(args[0], line), url: args[1] });
    } else if (keyword === "witness") {
      if (args.length < 2 || args.length > 3) fail(line, "expected witness <name> <vkey> [<url>]");
      define(args[0], line);
      witnesses.push({ name: args[0], key: await claim(args[1], line), url: args[2] });
    } else if (keyword === "group") {
      if (args.length < 3) fail(line, "expected group <name> all|any|<k> <name>...");
      const [name, threshold, ...members] = args;
      const n = members.length;
      let required;
      if (threshold === "all") required = n;
      else if (threshold === "any") required = 1;
      else if (/^[0-9]+$/.test(threshold) && Number(threshold) >= 1 && Number(threshold) <= n) required = Number(threshold);
      else fail(line, `threshold ${JSON.stringify(threshold)} is not all, any or a number from 1 to ${n}`);
      for (const m of members) {
        if (!names.has(m)) fail(line, `group ${name} lists ${JSON.stringify(m)}, which is not defined on an earlier line`);
        if (memberOf.has(m)) fail(line, `${m} is already a member of group ${memberOf.get(m)}`);
      }
      if (new Set(members).size !== n) fail(line, `group ${name} lists a member twice`);
      define(name, line);
      for (const m of members) memberOf.set(m, name);
      groups.set(name, { name, required, members });
    } else if (keyword === "quorum") {
      if (args.length !== 1) fail(line, "expected quorum <name>");
      if (quorum !== undefined) fail(line, "a second quorum line");
      if (args[0] !== "none" && !names.has(args[0])) fail(line, `quorum ${JSON.stringify(args[0])} is not defined on an earlier line`);
      quorum = args[0];
    } else {
      fail(line, `unknown keyword ${JSON.stringify(keyword)}`);
    }
  }
  if (quorum === undefined) fail(0, "no quorum line (exactly one is required)");
  return { logs, witnesses, groups, quorum };
}

/** Whether `name` (a witness or a group) has witnessed, given the witnesses whose signatures verified. */
function isWitnessed(policy, name, signed) {
  const group = policy.groups.get(name);
  if (!group) return signed.has(name);
  return group.members.filter((m) => isWitnessed(policy, m, signed)).length >= group.required;
}

/**
 * Verifies a checkpoint note against a policy (tlog-policy, as TlogPolicy.verify(note:)): one of
 * the policy's logs, if it lists any, signed it under the origin's name; the witnesses whose
 * signatures verified satisfy the quorum. Returns the checkpoint and who signed.
 */
export async function verifyCheckpointNote(noteText, policy) {
  const note = parseNote(noteText);
  const checkpoint = parseCheckpoint(note.text);
  const verified = new Set(await verifiedKeys(note, [...policy.logs.map((l) => l.key), ...policy.witnesses.map((w) => w.key)]));
  if (policy.logs.length > 0) {
    const signedLogs = policy.logs.filter((l) => verified.has(l.key));
    if (signedLogs.length === 0) throw new VerifyError("no_verified_signature", `checkpoint of ${checkpoint.origin} is signed by none of the policy's logs`);
    if (!signedLogs.some((l) => l.key.name === checkpoint.origin)) throw new VerifyError("origin_mismatch", `no signing log is named ${checkpoint.origin}`);
  }
  const signed = new Set(policy.witnesses.filter((w) => verified.has(w.key)).map((w) => w.name));
  const group = policy.groups.get(policy.quorum);
  const members = group ? group.members : policy.quorum === "none" ? [] : [policy.quorum];
  const result = {
    checkpoint,
    signedBy: [...signed],
    members: members.length,
    signedMembers: members.filter((m) => isWitnessed(policy, m, signed)).length,
    required: group ? group.required : members.length,
  };
  if (policy.quorum !== "none" && !isWitnessed(policy, policy.quorum, signed)) {
    throw Object.assign(new VerifyError("quorum_not_met", `${policy.quorum} needs ${result.required} of ${result.members}, has ${result.signedMembers}`), { result });
  }
  return result;
}

// MARK: - Block trailer (Specs/ledger-format.md §3)

/** Decodes a trailer leaf (tag 0x03); throws malformed_trailer on any other tag, version, truncation or trailing bytes. */
export function parseTrailer(leaf) {
  let at = 0;
  const take = (n) => {
    if (at + n > leaf.length) throw new VerifyError("malformed_trailer", "truncated trailer");
    const out = leaf.subarray(at, at + n);
    at += n;
    return out;
  };
  const u8 = () => take(1)[0];
  const u16 = () => Number(readUintBE(take(2)));
  const u32 = () => Number(readUintBE(take(4)));
  const u64 = () => readUintBE(take(8));
  const str16 = () => {
    const s = utf8Decode(take(u16()));
    if (s === null) throw new VerifyError("malformed_trailer", "a trailer string is not UTF-8");
    return s;
  };
  if (u8() !== 0x03) throw new VerifyError("malformed_trailer", "not a trailer leaf");
  if (u8() !== 1) throw new VerifyError("malformed_trailer", "unknown trailer version");
  const trailer = {
    origin: str16(), height: u64(), previousSize: u64(), previousRoot: take(32), timeMillis: u64(),
    proposer: str16(), entryCount: u32(), validatorSetHash: take(32), nextValidatorSetHash: take(32), lastCosigsHash: take(32),
  };
  if (at !== leaf.length) throw new VerifyError("malformed_trailer", "bytes after the trailer");
  trailer.size = trailer.previousSize + BigInt(trailer.entryCount) + 1n;
  return trailer;
}

// MARK: - Validator sets, their changes and epochs (Specs/ledger-format.md §2.1, §4; consensus.md §2.12),
// as Sources/Ledger/ValidatorSet.swift, ValidatorSetChange.swift and ValidatorEpochs.swift

/** A leaf's data, tag included, is at most this long (Specs/ledger-format.md §2). */
const LEAF_MAX_BYTES = 65535;
/** The most validators a set may have after a change, and the most approvals a change leaf carries. */
const SET_CHANGE_MAX_VALIDATORS = 256;
const VALIDATOR_SET_DOMAIN = utf8("\u0000cinnabar/validator-set/v1");
const APPROVAL_DOMAIN = utf8("\u0000ledger-validator-set/v1");
/** The policy group that lists the validators (ProofBundle.validatorsGroup). */
export const VALIDATORS_GROUP = "validators";

/** Names compare as Swift Strings do: by canonical equivalence. */
const nameKey = (name) => name.normalize("NFC");
/** UTF-8 exactly as written: a leading U+FEFF stays part of the name, as in Swift. */
const nameDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
const u16BE = (n) => Uint8Array.of((n >>> 8) & 255, n & 255);
const u32BE = (n) => Uint8Array.of((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
function u64BE(n) {
  let v = big(n, "u64");
  const out = new Uint8Array(8);
  for (let i = 7; i >= 0; i--) { out[i] = Number(v & 255n); v >>= 8n; }
  return out;
}
function str16(s) {
  const bytes = utf8(s);
  if (bytes.length > 0xffff) throw new VerifyError("invalid_validator_set", `a name of ${bytes.length} bytes does not fit its u16 length`);
  return concat(u16BE(bytes.length), bytes);
}

/** Q = ⌊2n/3⌋ + 1: more than two thirds (consensus.md §2.1). */
export function quorumOf(n) {
  return Math.floor((2 * n) / 3) + 1;
}

/**
 * A validator set as ValidatorSet.init: [{name, publicKey}], at least one, names and keys unique,
 * returned sorted by the raw 32-byte key (the set order). Throws invalid_validator_set.
 */
export function validatorSet(members) {
  const fail = (why) => { throw new VerifyError("invalid_validator_set", why); };
  if (!Array.isArray(members) || members.length === 0) fail("the set is empty");
  for (const v of members) {
    if (!v || typeof v.name !== "string" || !(v.publicKey instanceof Uint8Array) || v.publicKey.length !== 32) fail("a validator is a name and a 32-byte Ed25519 key");
  }
  if (new Set(members.map((v) => nameKey(v.name))).size !== members.length) fail("two validators share a name");
  if (new Set(members.map((v) => base64Encode(v.publicKey))).size !== members.length) fail("two validators share a key");
  return members.map((v) => ({ name: v.name, publicKey: v.publicKey })).sort((a, b) => compareBytes(a.publicKey, b.publicKey));
}

/** The canonical encoding of a set, shared by its hash and the change leaf: u32 count ‖ count × (str16 name ‖ 32-byte key), in key order. */
export function encodeValidatorSet(set) {
  const sorted = [...set].sort((a, b) => compareBytes(a.publicKey, b.publicKey));
  return concat(u32BE(sorted.length), ...sorted.flatMap((v) => [str16(v.name), v.publicKey]));
}

/** SHA-256("\0cinnabar/validator-set/v1" ‖ encoding): what every block trailer names (Specs/ledger-format.md §4). */
export function validatorSetHash(set) {
  return sha256(concat(VALIDATOR_SET_DOMAIN, encodeValidatorSet(set)));
}

/**
 * The bytes each approver of a change signs (Specs/ledger-format.md §2.1):
 * "\0ledger-validator-set/v1" ‖ str16 origin ‖ u64 epoch ‖ hash(current set) ‖ hash(new set),
 * `epoch` numbering the current set (0 for the genesis set).
 */
export async function approvalMessage(origin, epoch, currentSet, newSet) {
  return concat(APPROVAL_DOMAIN, str16(origin), u64BE(epoch), await validatorSetHash(currentSet), await validatorSetHash(newSet));
}

/**
 * Decodes a validator-set change leaf (tag 0x02) as ValidatorSetChange(leafData:):
 * {newSet: [{name, publicKey}], approvals: [{validator, signature}]}. Throws malformed_set_change
 * on another tag or version, more than 64 KiB, a set empty, over 256, out of key order or with a
 * repeated name or key, approvals over 256 or not in strictly increasing index order, truncation
 * and trailing bytes. Says nothing about whether the change is approved: see checkSetChange.
 */
export function parseSetChange(leaf) {
  const fail = (why) => { throw new VerifyError("malformed_set_change", why); };
  if (!(leaf instanceof Uint8Array)) fail("the leaf is not bytes");
  if (leaf.length > LEAF_MAX_BYTES) fail(`the leaf is over ${LEAF_MAX_BYTES} bytes`);
  let at = 0;
  const take = (n) => {
    if (at + n > leaf.length) return null;
    const out = leaf.subarray(at, at + n);
    at += n;
    return out;
  };
  const uint = (n) => { const b = take(n); return b === null ? null : Number(readUintBE(b)); };
  if (uint(1) !== 0x02) fail("not a validator-set change leaf");
  if (uint(1) !== 1) fail("unknown version");
  // The new set, as ValidatorSet(reading:maxCount:).
  const setFail = (why) => fail(`new set: invalid validator set: ${why}`);
  const count = uint(4);
  if (count === null) setFail("the encoding ends before the count");
  if (count < 1 || count > SET_CHANGE_MAX_VALIDATORS) setFail(`${count} validators; 1 to ${SET_CHANGE_MAX_VALIDATORS} allowed`);
  const members = [];
  for (let k = 0; k < count; k++) {
    const length = uint(2);
    const nameBytes = length === null ? null : take(length);
    let name = null;
    try { name = nameBytes === null ? null : nameDecoder.decode(nameBytes); } catch { name = null; }
    const key = name === null ? null : take(32);
    if (key === null) setFail("the encoding ends inside a validator");
    members.push({ name, publicKey: Uint8Array.from(key) });
  }
  let newSet = null, why = null;
  try { newSet = validatorSet(members); } catch (e) { why = e.message; }
  if (why !== null) setFail(why);
  if (newSet.some((v, i) => !bytesEqual(v.publicKey, members[i].publicKey))) setFail("validators are not in key order");
  const approvalCount = uint(2);
  if (approvalCount === null) fail("truncated before the approvals");
  if (approvalCount > SET_CHANGE_MAX_VALIDATORS) fail(`${approvalCount} approvals; at most ${SET_CHANGE_MAX_VALIDATORS}`);
  const approvals = [];
  for (let k = 0; k < approvalCount; k++) {
    const index = uint(2);
    const signature = index === null ? null : take(64);
    if (signature === null) fail("truncated approval");
    if (approvals.length > 0 && !(approvals[approvals.length - 1].validator < index)) fail("approvals are not in strictly increasing validator order");
    approvals.push({ validator: index, signature: Uint8Array.from(signature) });
  }
  if (at !== leaf.length) fail("bytes after the approvals");
  return { newSet, approvals };
}

/**
 * The leaf data of a change, tag included (ValidatorSetChange.leafData): approvals put in index
 * order, of two for the same validator the first given kept.
 */
export function encodeSetChange({ newSet, approvals }) {
  const seen = new Set();
  const kept = approvals.filter((a) => !seen.has(a.validator) && seen.add(a.validator)).sort((a, b) => a.validator - b.validator);
  return concat(Uint8Array.of(0x02, 1), encodeValidatorSet(newSet), u16BE(kept.length),
    ...kept.flatMap((a) => [u16BE(a.validator), a.signature]));
}

/**
 * The one step from `current` to `next` (ValidatorSetChange.step): {kind: "added" | "removed" |
 * "rekeyed", validator, text}, or invalid_set_change unless exactly one validator is added,
 * removed or given a new key.
 */
export function setChangeStep(current, next) {
  const old = new Map(current.map((v) => [nameKey(v.name), v]));
  const now = new Map(next.map((v) => [nameKey(v.name), v]));
  const added = next.filter((v) => !old.has(nameKey(v.name)));
  const removed = current.filter((v) => !now.has(nameKey(v.name)));
  const rekeyed = next.filter((v) => old.has(nameKey(v.name)) && !bytesEqual(old.get(nameKey(v.name)).publicKey, v.publicKey));
  const shape = `${added.length},${removed.length},${rekeyed.length}`;
  if (shape === "1,0,0") return { kind: "added", validator: added[0], text: `adds ${added[0].name}` };
  if (shape === "0,1,0") return { kind: "removed", validator: removed[0], text: `removes ${removed[0].name}` };
  if (shape === "0,0,1") {
    return { kind: "rekeyed", validator: rekeyed[0], previousKey: old.get(nameKey(rekeyed[0].name)).publicKey, text: `gives ${rekeyed[0].name} a new key` };
  }
  if (shape === "0,0,0") throw new VerifyError("invalid_set_change", "the new set is the current set");
  throw new VerifyError("invalid_set_change", `one validator at a time: this adds ${added.length}, removes ${removed.length} and re-keys ${rekeyed.length}`);
}

/**
 * Everything a change must satisfy against `current`, the set of epoch `epoch` of log `origin`
 * (ValidatorSetChange.check), in its order: one step (invalid_set_change); at most 256 validators,
 * a valid key name `<origin>/<name>` for each, a leaf within 65,535 bytes (invalid_set_change);
 * every approval a current validator's valid Ed25519 signature over approvalMessage, from at least
 * ⌊2n/3⌋ + 1 distinct current validators (unapproved_set_change). With `verifySignatures` false
 * (no Ed25519 on this device) the approvals are not checked. Returns the step, with `approvers`.
 */
export async function checkSetChange(change, { origin, epoch, current, verifySignatures = true }) {
  const step = setChangeStep(current, change.newSet);
  if (change.newSet.length > SET_CHANGE_MAX_VALIDATORS) throw new VerifyError("invalid_set_change", `${change.newSet.length} validators; at most ${SET_CHANGE_MAX_VALIDATORS}`);
  for (const v of change.newSet) {
    if (!isValidKeyName(`${origin}/${v.name}`)) throw new VerifyError("invalid_set_change", `validator "${v.name}" gives no valid key name under ${origin}`);
  }
  const bytes = encodeSetChange(change).length;
  if (bytes > LEAF_MAX_BYTES) throw new VerifyError("invalid_set_change", `the leaf is ${bytes} bytes; the limit is ${LEAF_MAX_BYTES}`);
  if (!verifySignatures) return { ...step, approvers: null };
  const message = await approvalMessage(origin, epoch, current, change.newSet);
  const approvers = new Set();
  for (const a of change.approvals) {
    if (a.validator < current.length && await ed25519Verify(current[a.validator].publicKey, a.signature, message)) approvers.add(a.validator);
  }
  const bad = change.approvals.find((a) => !approvers.has(a.validator));
  if (bad) throw new VerifyError("unapproved_set_change", `the approval at index ${bad.validator} is not a current validator's signature over this change`);
  const quorum = quorumOf(current.length);
  if (approvers.size < quorum) throw new VerifyError("unapproved_set_change", `approved by ${approvers.size} of the ${current.length} current validators; ${quorum} needed`);
  return { ...step, approvers: approvers.size };
}

/** The C2SP verifier keys (type 0x01, named `<origin>/<name>`) of a set's validators, in set order. */
export async function validatorKeys(set, origin) {
  return Promise.all(set.map(async (v) => {
    const name = `${origin}/${v.name}`;
    if (!isValidKeyName(name)) throw new VerifyError("invalid_validator_set", `no key names under ${origin}: invalid key name ${JSON.stringify(name)}`);
    return { name, type: KEY_TYPE.ed25519, publicKey: v.publicKey, keyID: await keyID(name, KEY_TYPE.ed25519, v.publicKey), validator: v.name };
  }));
}

async function makeEpoch(number, fromSize, set, changeIndex, origin, extra = {}) {
  return { number, fromSize, set, hash: await validatorSetHash(set), keys: await validatorKeys(set, origin), changeIndex, ...extra };
}

/** "genesis set: NAMES" or "set since the change at leaf I: NAMES", names in alphabetical order (ValidatorEpochs.Epoch.description). */
export function describeEpoch(epoch) {
  const names = epoch.set.map((v) => v.name).sort().join(", ");
  return epoch.changeIndex === null ? `genesis set: ${names}` : `set since the change at leaf ${epoch.changeIndex}: ${names}`;
}

/** The epoch in force for checkpoints of `size`: the last one starting at or before it. */
export function epochForSize(epochs, size) {
  const n = big(size, "size");
  return epochs.filter((e) => e.fromSize <= n).pop();
}

/**
 * The validators of other epochs, not in the set in force at `size`, whose signature on the parsed
 * `note` verifies (a re-keyed validator's old key counts as such): who signed out of turn.
 */
export async function formerValidators(note, epochs, size) {
  const inForce = epochForSize(epochs, size).set;
  const same = (a, b) => a.name === b.name && bytesEqual(a.publicKey, b.publicKey);
  const former = [];
  for (const epoch of epochs) {
    for (const [i, v] of epoch.set.entries()) {
      if (inForce.some((w) => same(v, w)) || former.some((w) => same(v, w))) continue;
      let signed = false;
      try { signed = (await verifiedKeys(note, [epoch.keys[i]])).length === 1; } catch { signed = false; }
      if (signed) former.push(v);
    }
  }
  return former;
}

/** "signed by NAMES, no longer a validator(s) at that size", or null if `former` is empty. */
export function signedOutOfTurn(former) {
  if (former.length === 0) return null;
  return `signed by ${former.map((v) => v.name).sort().join(", ")}, no longer ${former.length === 1 ? "a validator" : "validators"} at that size`;
}

/**
 * Verifies a checkpoint note against the epochs (ValidatorEpochs.verify(checkpointNote:)): its
 * origin is `origin`, and at least ⌊2n/3⌋ + 1 distinct validators of the set in force at its size
 * signed it (lines from other keys are ignored; a line from a key of that set that does not verify
 * rejects the note). Throws untrusted_checkpoint, naming who signed and which signers are
 * validators no longer in force (`former` on the error). Returns {checkpoint, note, epoch, signers}.
 */
export async function verifyEpochCheckpoint(noteText, epochs, origin, { verifySignatures = true } = {}) {
  let note, checkpoint;
  try {
    note = parseNote(noteText);
    checkpoint = parseCheckpoint(note.text);
  } catch (e) {
    throw new VerifyError("untrusted_checkpoint", `${e.code}: ${e.message}`);
  }
  if (checkpoint.origin !== origin) throw new VerifyError("untrusted_checkpoint", `the checkpoint is of ${checkpoint.origin}, not ${origin}`);
  const epoch = epochForSize(epochs, checkpoint.size);
  if (!verifySignatures) return { checkpoint, note, epoch, signers: null };
  let signers;
  try { signers = await verifiedKeys(note, epoch.keys); } catch (e) { throw new VerifyError("untrusted_checkpoint", `${e.code}: ${e.message}`); }
  const quorum = quorumOf(epoch.set.length);
  if (signers.length < quorum) {
    const names = signers.map((k) => k.validator).sort();
    const former = await formerValidators(note, epochs, checkpoint.size);
    const outOfTurn = signedOutOfTurn(former);
    throw Object.assign(new VerifyError("untrusted_checkpoint",
      `size ${checkpoint.size} is signed by ${signers.length} of the ${epoch.set.length} validators in force (${describeEpoch(epoch)}):`
      + ` ${names.length === 0 ? "none" : names.join(", ")}; ${quorum} needed${outOfTurn ? `; also ${outOfTurn}` : ""}`), { former: former.map((v) => v.name) });
  }
  return { checkpoint, note, epoch, signers };
}

/** One change (ValidatorEpochs.apply), in Swift's order; returns the epoch it opens. */
async function followChange(epochs, origin, change, options) {
  if (!change || typeof change !== "object") throw new VerifyError("malformed_bundle", "a validator-set change is not an object");
  const index = big(change.leaf_index, "leaf_index");
  const leaf = base64Decode(change.leaf);
  if (!leaf) throw new VerifyError("malformed_base64", "the leaf is not standard base64");
  const proof = decodeHashes(change.inclusion_proof, "inclusion_proof");
  const last = epochs[epochs.length - 1];
  // The checkpoint of the change's block, signed by a quorum of the set in force at its size.
  const { checkpoint } = await verifyEpochCheckpoint(change.checkpoint, epochs, origin, options);
  // The first tree holding the change must be in the last epoch: changes come in order.
  if (index + 1n < last.fromSize) throw new VerifyError("unproved_set_change", `the change at leaf ${index} comes before the epoch that starts at size ${last.fromSize}`);
  if (!(checkpoint.size > index && checkpoint.size <= index + 2n)) {
    throw new VerifyError("unproved_set_change", `the checkpoint of size ${checkpoint.size} is not of the block of leaf ${index} (size ${index + 2n})`);
  }
  try {
    await verifyInclusion(await leafHash(leaf), index, checkpoint.size, proof, checkpoint.root);
  } catch (e) {
    throw new VerifyError("unproved_set_change", `leaf ${index} is not in the checkpoint of size ${checkpoint.size}: ${e.code}: ${e.message}`);
  }
  const decoded = parseSetChange(leaf);
  const step = await checkSetChange(decoded, { origin, epoch: last.number, current: last.set, verifySignatures: options.verifySignatures });
  return makeEpoch(last.number + 1, index + 3n, decoded.newSet, index, origin, { step, checkpointSize: checkpoint.size, previous: last });
}

/**
 * Follows validator-set changes from the pinned genesis set of log `origin` (consensus.md §2.12,
 * Specs/ledger-format.md §4), as ValidatorEpochs: `changes` are the bundle's
 * `validator_set_changes` entries ({leaf_index, leaf, inclusion_proof, checkpoint}) in log order.
 * For each, in order: its checkpoint is signed by a quorum of the set in force (the set before the
 * change); the change lies in the last epoch and the checkpoint is of its block (size i + 1 … i + 2);
 * the leaf is in that checkpoint (RFC 9162); the leaf decodes; the change is one step, approved by
 * a quorum of the set before it for that epoch's number. Then sizes from i + 3 belong to the new set.
 *
 * Returns the epochs, [{number, fromSize, set, hash, keys, changeIndex, step, checkpointSize}],
 * the first the genesis epoch from size 0. Throws a VerifyError whose message starts with
 * "validator-set change at leaf I:" (with `leafIndex` and the `epochs` followed before it), or
 * invalid_validator_set for a genesis set without key names under `origin`. With
 * `verifySignatures` false, signatures are not checked (ed25519Available() said no).
 */
export async function followEpochs(genesisSet, origin, changes = [], { verifySignatures = true } = {}) {
  const genesis = validatorSet(genesisSet);
  const epochs = [await makeEpoch(0, 0n, genesis, null, origin)];
  if (!Array.isArray(changes)) throw new VerifyError("malformed_bundle", "validator_set_changes is not a list");
  for (const change of changes) {
    try {
      epochs.push(await followChange(epochs, origin, change, { verifySignatures }));
    } catch (e) {
      const leafIndex = change && change.leaf_index;
      throw Object.assign(new VerifyError(e.code || "error", `validator-set change at leaf ${leafIndex}: ${e.message}`), { leafIndex, epochs: [...epochs] });
    }
  }
  return epochs;
}

/**
 * The validator set a policy pins (ProofBundle.validators(in:origin:)): the members of its
 * `validators` group, each a type-0x01 key named `<origin>/<member>`. Throws invalid_validator_set.
 */
export function validatorsInPolicy(policy, origin) {
  const group = policy.groups.get(VALIDATORS_GROUP);
  if (!group) throw new VerifyError("invalid_validator_set", `the policy has no ${VALIDATORS_GROUP} group`);
  return validatorSet(group.members.map((name) => {
    const w = policy.witnesses.find((x) => x.name === name);
    if (!w || w.key.type !== KEY_TYPE.ed25519 || w.key.name !== `${origin}/${name}`) {
      throw new VerifyError("invalid_validator_set", `policy member ${name} is not a validator key named ${origin}/${name}`);
    }
    return { name, publicKey: w.key.publicKey };
  }));
}

/**
 * `policy` with the set of `epoch` as its validators (ProofBundle.policy(_:withValidators:)): their
 * witnesses and the `validators` group (at the set's quorum) replaced; every other witness, group,
 * log and the quorum kept. Throws malformed_policy if the result breaks a tlog-policy rule.
 */
export function policyWithValidators(policy, epoch) {
  const group = policy.groups.get(VALIDATORS_GROUP);
  if (!group) throw new VerifyError("invalid_validator_set", `the policy has no ${VALIDATORS_GROUP} group`);
  const others = policy.witnesses.filter((w) => !group.members.includes(w.name));
  const taken = new Set(["none", ...others.map((w) => w.name), ...policy.groups.keys()]);
  const keys = new Set([...policy.logs.map((l) => base64Encode(l.key.publicKey)), ...others.map((w) => base64Encode(w.key.publicKey))]);
  const validators = epoch.set.map((v, i) => {
    if (taken.has(v.name)) throw new VerifyError("malformed_policy", `validator ${v.name} is named like another witness or group of the policy`);
    if (keys.has(base64Encode(v.publicKey))) throw new VerifyError("malformed_policy", `the key of validator ${v.name} is listed twice in the policy`);
    return { name: v.name, key: epoch.keys[i] };
  });
  const groups = new Map([...policy.groups].map(([name, g]) => [name,
    name === VALIDATORS_GROUP ? { name, required: quorumOf(epoch.set.length), members: epoch.set.map((v) => v.name) } : g]));
  return { logs: policy.logs, witnesses: [...validators, ...others], groups, quorum: policy.quorum };
}

// MARK: - Records: RFC 8785 canonical JSON and eddsa-jcs-2022 (vc-di-eddsa v1.0 §3.3)

/**
 * RFC 8785 (JCS) serialisation: object members sorted by UTF-16 code units (JavaScript's default
 * string order), numbers and strings as ECMAScript JSON.stringify writes them (JCS §3.2.2).
 */
export function canonicalJSON(value) {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new VerifyError("record_invalid_json", "JCS has no NaN or infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(value[k])}`).join(",")}}`;
}

/** The Ed25519 public key in a Multikey ('z' + base58btc(0xed 0x01 ‖ 32 bytes)), or null. */
export function multikeyPublicKey(multibase) {
  const bytes = base58btcDecode(multibase);
  if (!bytes || bytes.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) return null;
  return bytes.subarray(2);
}

/**
 * Verifies one eddsa-jcs-2022 proof of `document` (vc-di-eddsa v1.0 §3.3.2): the signature over
 * SHA-256(JCS(proof without proofValue)) ‖ SHA-256(JCS(document without proof)); when the proof
 * has an @context, the document's must start with it and the proof's stands in for it.
 */
export async function verifyDataIntegrityProof(document, proof, publicKey) {
  if (!proof || proof.type !== "DataIntegrityProof" || proof.cryptosuite !== "eddsa-jcs-2022") throw new VerifyError("unsupported_cryptosuite", "the proof is not an eddsa-jcs-2022 DataIntegrityProof");
  if (proof.previousProof !== undefined) throw new VerifyError("proof_malformed", "proof chains (previousProof) are not supported");
  const signature = base58btcDecode(proof.proofValue);
  if (!signature || signature.length !== 64) throw new VerifyError("proof_malformed", "proofValue is not 'z' + base58btc of a 64-byte Ed25519 signature");
  const unsecured = { ...document };
  delete unsecured.proof;
  if (proof["@context"] !== undefined) {
    const list = (c) => (Array.isArray(c) ? c : [c]).map(canonicalJSON);
    const doc = document["@context"] === undefined ? [] : list(document["@context"]);
    const mine = list(proof["@context"]);
    if (doc.length < mine.length || mine.some((c, i) => c !== doc[i])) throw new VerifyError("signature_invalid", "the document's @context does not start with the proof's @context");
    unsecured["@context"] = proof["@context"];
  }
  const options = { ...proof };
  delete options.proofValue;
  const hashData = concat(await sha256(utf8(canonicalJSON(options))), await sha256(utf8(canonicalJSON(unsecured))));
  if (!(await ed25519Verify(publicKey, signature, hashData))) throw new VerifyError("signature_invalid", `the signature of ${proof.verificationMethod} does not verify`);
}

/**
 * Verifies a record's writer signature against the bundle's registered writer keys, as
 * Admission.verifySignatures: every proof by a key `cinnabar:org:<USCI>#<key id>` known to the
 * bundle must verify, one of them by the writer's own key.
 */
export async function verifyRecordSignatures(record, writers) {
  const proofs = Array.isArray(record.proof) ? record.proof : record.proof ? [record.proof] : [];
  if (proofs.length === 0) throw new VerifyError("proof_missing", "the record has no proof");
  const writerMethod = `cinnabar:org:${record.writer_org}#${record.key_id}`;
  let sawWriter = false;
  for (const proof of proofs) {
    const match = /^cinnabar:org:([^#]+)#(.+)$/.exec(proof && proof.verificationMethod);
    if (!match) throw new VerifyError("proof_malformed", `verificationMethod ${proof && proof.verificationMethod} is not cinnabar:org:<USCI>#<key id>`);
    const writer = writers.find((w) => w.org === match[1]);
    const key = writer && writer.keys && multikeyPublicKey(writer.keys[match[2]]);
    if (!key) throw new VerifyError("key_unknown", `the bundle holds no key ${match[0]}`);
    await verifyDataIntegrityProof(record, proof, key);
    if (match[0] === writerMethod) sawWriter = true;
  }
  if (!sawWriter) throw new VerifyError("proof_malformed", `no proof by the writer's key ${writerMethod}`);
}

// MARK: - The offline proof bundle (Sources/Node/ProofBundle.swift, DESIGN.md §2.5)

export const BUNDLE_FORMAT = "cinnabar-bundle/v1";

/**
 * Verifies a proof bundle on this device, as ProofBundle.verify: (1) the validator sets: the
 * policy's `validators` group is the genesis set, and each of the bundle's `validator_set_changes`
 * is followed in order (followEpochs; one check per change); (2) the checkpoint is signed by a
 * quorum of the validators in force at its size (the policy, with its `validators` group replaced by
 * that set once a change is in force; its other witnesses and groups still apply); (3) each entry's
 * leaf is in the tree of the checkpoint (RFC 9162 inclusion), so is its block trailer, the entry lies
 * inside that block, the trailer gives its time and names the validator set in force for that block
 * (so a bundle that leaves out a change is refused); the leaf is a well-formed record signed by its
 * writer. A bundle without `validator_set_changes` is one made while the genesis set is in force.
 *
 * `policyText` is the trust policy; by default the bundle's own (the node that served the page
 * also published it). Returns a report: every check made, in order, with a stable `id`, `ok`
 * (true, false, or null when this device cannot make it: no Ed25519), a technical `detail`, and
 * `args` for the message; plus what was proved about each entry, and the `epochs` followed.
 * Stops at the first failure.
 */
export async function verifyBundle(bundle, { policyText } = {}) {
  const report = { checks: [], entries: [], signatures: null, checkpoint: null, signaturesChecked: false, epochs: null };
  const add = (id, ok, detail = "", args = {}) => { report.checks.push({ id, ok, detail, args }); return ok; };
  const finish = () => {
    report.failure = report.checks.find((c) => c.ok === false) || null;
    report.ok = report.failure === null && report.checks.every((c) => c.ok === true);
    return report;
  };
  if (!add("format", bundle && bundle.format === BUNDLE_FORMAT, `format is ${bundle && bundle.format}, expected ${BUNDLE_FORMAT}`)) return finish();
  const canSign = await ed25519Available();
  let policy;
  try {
    policy = await parsePolicy(policyText ?? bundle.policy);
  } catch (e) {
    add("checkpoint_signatures", false, `${e.code || "error"}: ${e.message}`);
    return finish();
  }

  // 1. The validator sets: the policy's (genesis) set, then each change in order (consensus.md §2.12).
  let epochs = null, genesisError = null;
  try {
    epochs = await followEpochs(validatorsInPolicy(policy, bundle.origin), bundle.origin, []);
  } catch (e) {
    genesisError = e;
  }
  const changes = bundle.validator_set_changes ?? [];
  /** The leaf index as the message shows it. */
  const leafLabel = (i) => (typeof i === "number" ? i : String(i ?? "?"));
  if (!Array.isArray(changes) || changes.length > 0) {
    if (!Array.isArray(changes)) {
      add("validator_set_change", false, "malformed_bundle: validator_set_changes is not a list", { index: "?" });
      return finish();
    }
    if (!epochs) {
      add("validator_set_change", false, `invalid_validator_set: the policy pins no ${VALIDATORS_GROUP} group to follow the validator-set changes from: ${genesisError.message}`,
        { index: leafLabel(changes[0] && changes[0].leaf_index) });
      return finish();
    }
    let followed, failure = null;
    try {
      followed = await followEpochs(epochs[0].set, bundle.origin, changes, { verifySignatures: canSign });
    } catch (e) {
      followed = e.epochs || epochs;
      failure = e;
    }
    for (const epoch of followed.slice(1)) {
      const i = epoch.changeIndex, names = epoch.set.map((v) => v.name).sort().join(", ");
      const args = { index: Number(i), name: epoch.step.validator.name, change: epoch.step.kind, from: Number(i + 3n) };
      if (canSign) {
        add("validator_set_change", true, `validator-set change at leaf ${i} ${epoch.step.text}, approved by ${epoch.step.approvers} of the ${epoch.previous.set.length} validators`
          + ` before it and proved under their checkpoint of size ${epoch.checkpointSize}; from size ${i + 3n} the validators are ${names}`, args);
      } else {
        add("validator_set_change", null, `validator-set change at leaf ${i} ${epoch.step.text}, from size ${i + 3n} the validators would be ${names};`
          + " its approvals and checkpoint could not be checked: this browser cannot verify Ed25519 signatures", args);
      }
    }
    if (failure) {
      add("validator_set_change", false, `${failure.code || "error"}: ${failure.message}`, { index: leafLabel(failure.leafIndex) });
      return finish();
    }
    epochs = followed;
  }
  report.epochs = epochs;

  // 2. The checkpoint: signed by a quorum of the validators in force at its size (and the policy's
  // other witnesses, if it names any).
  let checkpoint;
  try {
    if (canSign) {
      const note = parseNote(bundle.checkpoint);
      const size = parseCheckpoint(note.text).size;
      // After a change, the policy with the set in force at that size as its validators.
      const changed = epochs && epochForSize(epochs, size).changeIndex !== null ? epochForSize(epochs, size) : null;
      let result;
      try {
        result = await verifyCheckpointNote(bundle.checkpoint, changed ? policyWithValidators(policy, changed) : policy);
      } catch (e) {
        // Name the set in force, and the signers that no longer belong to it (ProofBundle.verify).
        if (epochs && epochs.length > 1) {
          const former = await formerValidators(note, epochs, size);
          const outOfTurn = signedOutOfTurn(former);
          e.message += `; at size ${size} the validators in force are the ${describeEpoch(epochForSize(epochs, size))}${outOfTurn ? `; ${outOfTurn}` : ""}`;
          if (former.length > 0) e.former = former.map((v) => v.name);
        }
        throw e;
      }
      checkpoint = result.checkpoint;
      report.signatures = result;
      report.signaturesChecked = true;
      add("checkpoint_signatures", true, `checkpoint of size ${checkpoint.size} is signed by ${result.signedMembers} of ${result.members} validators (${result.required} needed)`
        + (changed ? `, the validators in force at that size (${describeEpoch(changed)})` : ""),
        { signed: result.signedMembers, total: result.members, required: result.required });
    } else {
      checkpoint = parseCheckpoint(parseNote(bundle.checkpoint).text);
      add("checkpoint_signatures", null, "this browser cannot verify Ed25519 signatures", { total: policy.witnesses.length });
    }
  } catch (e) {
    add("checkpoint_signatures", false, `${e.code || "error"}: ${e.message}`, {
      ...(e.result ? { signed: e.result.signedMembers, total: e.result.members, required: e.result.required } : {}),
      ...(e.former ? { former: e.former.join(", ") } : {}),
    });
    return finish();
  }
  report.checkpoint = checkpoint;
  if (!add("checkpoint_origin", checkpoint.origin === bundle.origin, `checkpoint origin is ${checkpoint.origin}, the bundle says ${bundle.origin}`)) return finish();

  // 2. Each entry: in the tree, inside its block, a record signed by its writer.
  for (const entry of bundle.entries || []) {
    const args = { record: entry.record_id, index: entry.leaf_index };
    let leaf, trailerLeaf, proof, trailerProof;
    try {
      leaf = base64Decode(entry.leaf);
      trailerLeaf = base64Decode(entry.trailer);
      if (!leaf || !trailerLeaf) throw new VerifyError("malformed_base64", "leaf or trailer is not standard base64");
      proof = decodeHashes(entry.inclusion_proof, "inclusion_proof");
      trailerProof = decodeHashes(entry.trailer_proof, "trailer_proof");
    } catch (e) {
      add("entry_encoding", false, `record ${entry.record_id}: ${e.message}`, args);
      return finish();
    }
    try {
      await verifyInclusion(await leafHash(leaf), entry.leaf_index, checkpoint.size, proof, checkpoint.root);
      add("inclusion", true, `leaf ${entry.leaf_index}: RFC 9162 inclusion proof leads to the checkpoint root`, args);
    } catch (e) {
      add("inclusion", false, `leaf ${entry.leaf_index}: ${e.code}: ${e.message}`, args);
      return finish();
    }
    let trailer;
    try {
      await verifyInclusion(await leafHash(trailerLeaf), entry.trailer_index, checkpoint.size, trailerProof, checkpoint.root);
      trailer = parseTrailer(trailerLeaf);
    } catch (e) {
      add("trailer", false, `block trailer at ${entry.trailer_index}: ${e.code}: ${e.message}`, args);
      return finish();
    }
    const index = BigInt(entry.leaf_index), trailerIndex = BigInt(entry.trailer_index);
    // Specs/ledger-format.md §8 step 4: previousSize ≤ i < previousSize + entryCount, the trailer being leaf size − 1.
    const inBlock = trailer.size === trailerIndex + 1n && trailer.previousSize <= index && index < trailerIndex && trailer.origin === checkpoint.origin;
    if (!add("trailer", inBlock, `leaf ${index} in block ${trailer.height} (leaves ${trailer.previousSize}…${trailerIndex}), logged at ${trailer.timeMillis} ms`,
      { ...args, height: trailer.height.toString(), time: Number(trailer.timeMillis) })) return finish();
    // The block names the validator set in force for it: a change left out of the bundle shows here.
    // Reported only when it fails, as ProofBundle.verify does (a bundle of the genesis epoch lists the checks it always did).
    const inForce = epochs && epochForSize(epochs, trailer.size);
    if (inForce && !bytesEqual(trailer.validatorSetHash, inForce.hash)) {
      add("trailer_validators", false, `block ${trailer.height} names another validator set than the one in force at size ${trailer.size}`
        + ` (${describeEpoch(inForce)}): a validator-set change is missing from the bundle`, { ...args, height: trailer.height.toString() });
      return finish();
    }
    const body = leaf[0] === 0x01 ? utf8Decode(leaf.subarray(1)) : null;
    let record = null;
    try { record = body === null ? null : JSON.parse(body); } catch { record = null; }
    // The leaf holds the record's canonical bytes exactly (DESIGN.md §2.4).
    if (!add("record", record !== null && typeof record === "object" && record.record_id === entry.record_id && canonicalJSON(record) === body,
      `leaf ${index} is ${record ? "" : "not "}a canonical record${record && record.record_id !== entry.record_id ? ` but of id ${record.record_id}` : ""}`, args)) return finish();
    const writer = (bundle.writers || []).find((w) => w.org === record.writer_org);
    if (canSign) {
      try {
        await verifyRecordSignatures(record, bundle.writers || []);
        add("writer_signature", true, `${record.type} signed by ${record.writer_org}#${record.key_id} (eddsa-jcs-2022)`, { ...args, org: record.writer_org, key: record.key_id });
      } catch (e) {
        add("writer_signature", false, `${e.code}: ${e.message}`, { ...args, org: record.writer_org, key: record.key_id });
        return finish();
      }
    } else {
      add("writer_signature", null, "this browser cannot verify Ed25519 signatures", args);
    }
    report.entries.push({
      recordID: entry.record_id, leafIndex: Number(index), record, writer: writer || null,
      loggedAtMillis: Number(trailer.timeMillis), blockHeight: Number(trailer.height), leaf,
    });
  }
  if (report.entries.length === 0) add("record", false, "the bundle holds no entries");
  return finish();
}

// MARK: - The server's answer against what the bundle proves

/** The date (YYYY-MM-DD) of Unix milliseconds in China Standard Time (UTC+8), as the node writes dates. */
export function chinaDate(millis) {
  return new Date(millis + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

/** Unix milliseconds as the node's RFC 3339 time in China Standard Time, to the second: 2026-11-29T19:06:04+08:00. */
export function chinaTimestamp(millis) {
  return `${new Date(Math.floor(millis / 1000) * 1000 + 8 * 3600 * 1000).toISOString().slice(0, 19)}+08:00`;
}

/** Every SHA-256 digest (hex) that a record names: renditions and content digests. */
export function recordDigests(record) {
  const p = (record && record.payload) || {};
  return [
    ...(Array.isArray(p.renditions) ? p.renditions.map((r) => r && r.sha256) : []),
    ...(Array.isArray(p.content_digests) ? p.content_digests.filter((d) => d && d.alg === "sha256").map((d) => d.value) : []),
  ].filter((d) => typeof d === "string").map((d) => d.toLowerCase());
}

/**
 * Checks that the node's plain-words answer (GET /v1/verify) says what the verified records say:
 * the same record and leaf, the issuer, number, type, dates and masked holder from the signed
 * record, each digest from a proven record, and each status event a proven record of the same
 * type, decision number and date. Appends checks to `report` and returns it.
 */
export function crossCheckAnswer(answer, report) {
  const add = (id, ok, detail, args = {}) => { report.checks.push({ id, ok, detail, args }); return ok; };
  const finish = () => {
    report.failure = report.checks.find((c) => c.ok === false) || null;
    report.ok = report.failure === null && report.checks.every((c) => c.ok === true);
    return report;
  };
  const subject = report.entries[0];
  if (!subject) return finish();
  const receiptLeaf = base64Decode(answer.receipt && answer.receipt.leaf);
  if (!add("answer_record", answer.record_id === subject.recordID && receiptLeaf !== null && bytesEqual(receiptLeaf, subject.leaf),
    `the answer names record ${answer.record_id}, the bundle proves ${subject.recordID}`)) return finish();
  const r = subject.record, p = r.payload || {};
  const fields = [
    ["issuer", answer.issuer, r.writer_org], ["document_number", answer.document_number, p.doc_number],
    ["document_type", answer.document_type, p.doc_type], ["holder", answer.holder, p.holder_masked],
    ["issued_at", answer.issued_at, p.issued_at], ["valid_until", answer.valid_until, p.valid_until],
    // The time shown is the block time of the proven trailer (Specs/ledger-format.md §3).
    ["logged_at", answer.receipt && answer.receipt.logged_at, chinaTimestamp(subject.loggedAtMillis)],
  ].filter(([, shown]) => shown !== undefined && shown !== null);
  const wrong = fields.find(([, shown, signed]) => shown !== signed);
  if (!add("answer_fields", !wrong, wrong ? `${wrong[0]} is ${JSON.stringify(wrong[1])} in the answer, ${JSON.stringify(wrong[2])} in the signed record` : "every field shown is in the signed record",
    { field: wrong ? wrong[0] : "" })) return finish();
  const proven = new Set(report.entries.flatMap((e) => recordDigests(e.record)));
  const unproven = (answer.sha256 || []).find((d) => !proven.has(String(d).toLowerCase()));
  if (!add("answer_digests", !unproven, unproven ? `digest ${unproven} is in no proven record` : "every file digest shown is in a proven record")) return finish();
  const events = report.entries.slice(1);
  const missing = (answer.history || []).find((h) => !events.some((e) => e.record.type === h.type && chinaDate(e.loggedAtMillis) === h.date
    && (h.decision_number == null || [e.record.payload?.decision_number, e.record.payload?.ruling_number].includes(h.decision_number))));
  add("answer_history", !missing, missing ? `the ${missing.type} of ${missing.date} is in no proven record` : "every status event shown is a proven record", { type: missing ? missing.type : "" });
  return finish();
}
