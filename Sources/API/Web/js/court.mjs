// The court and organisation view's credentials: an organisation key file read in the browser
// and kept in memory only, and RFC 9421 HTTP Message Signatures (Ed25519) on its requests to the
// node's organisation-only reads (GET /v1/history/{code}, GET /v1/cases/{code}).
import { base58btcDecode, base64Encode, concat, hexDecode, utf8 } from "./encoding.mjs";

/** The multicodec prefix of an Ed25519 private key in a Multikey: ed25519-priv (0x1300) as a varint. */
const MULTIKEY_ED25519_PRIVATE = [0x80, 0x26];
/**
 * RFC 8410 §7: a PKCS#8 PrivateKeyInfo for Ed25519 is this fixed DER prefix (SEQUENCE, version 0,
 * AlgorithmIdentifier 1.3.101.112, OCTET STRING of an OCTET STRING) followed by the 32-byte seed.
 * WebCrypto cannot derive the public key from a raw seed, but imports PKCS#8.
 */
const PKCS8_ED25519_PREFIX = hexDecode("302e020100300506032b657004220420");

/** Why a key file was refused; `code` is stable. */
export class KeyFileError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * Reads an organisation key file as written by `cinnabar dev init` (`<dir>/orgs/<slug>.key`):
 * `{"org","role","name","key_id","private_key_multibase"}`, the key 'z' + base58btc(0x80 0x26 ‖
 * 32-byte seed). Returns the organisation and a non-extractable WebCrypto signing key.
 */
export async function importOrganisationKey(text) {
  let file;
  try { file = JSON.parse(text); } catch { throw new KeyFileError("key_file_not_json", "the file is not JSON"); }
  for (const field of ["org", "key_id", "private_key_multibase"]) {
    if (!file || typeof file[field] !== "string" || file[field].length === 0) throw new KeyFileError("key_file_incomplete", `the file has no ${field}`);
  }
  const bytes = base58btcDecode(file.private_key_multibase);
  if (!bytes || bytes.length !== 34 || bytes[0] !== MULTIKEY_ED25519_PRIVATE[0] || bytes[1] !== MULTIKEY_ED25519_PRIVATE[1]) {
    throw new KeyFileError("key_file_not_ed25519", "private_key_multibase is not a Multikey Ed25519 private key");
  }
  const key = await importEd25519Seed(bytes.subarray(2));
  return { org: file.org, role: file.role || "", name: file.name || "", keyID: file.key_id, keyid: `cinnabar:org:${file.org}#${file.key_id}`, key };
}

/** A 32-byte Ed25519 seed as a non-extractable WebCrypto signing key (through PKCS#8). */
export async function importEd25519Seed(seed) {
  try {
    return await globalThis.crypto.subtle.importKey("pkcs8", concat(PKCS8_ED25519_PREFIX, seed), { name: "Ed25519" }, false, ["sign"]);
  } catch (e) {
    throw new KeyFileError("ed25519_unavailable", `this browser cannot sign with Ed25519 (${e && e.name})`);
  }
}

/** The covered components of every request: method, path and query (RFC 9421 §2.2). */
const COMPONENTS = '("@method" "@path" "@query")';

/**
 * The signature base of RFC 9421 §2.5 for a request: one line per covered component, then the
 * `@signature-params` line, joined by "\n" with no trailing newline. `@query` is "?" and the
 * query, or "?" alone when there is none (§2.2.7).
 */
export function signatureBase({ method, path, query, created, keyid }) {
  const params = `${COMPONENTS};created=${created};keyid="${keyid}";alg="ed25519"`;
  return {
    params,
    base: [`"@method": ${method}`, `"@path": ${path}`, `"@query": ?${query || ""}`, `"@signature-params": ${params}`].join("\n"),
  };
}

/**
 * The `Signature-Input` and `Signature` headers (label `cinnabar`) signing `method url` now.
 * `clockOffsetSeconds` corrects this device's clock by the server's (its Date header), since the
 * node accepts `created` within ±300 s.
 */
export async function signatureHeaders(orgKey, method, url, clockOffsetSeconds = 0) {
  const u = new URL(url, globalThis.location ? globalThis.location.href : "http://localhost/");
  const created = Math.floor(Date.now() / 1000 + clockOffsetSeconds);
  const { params, base } = signatureBase({ method, path: u.pathname, query: u.search.replace(/^\?/, ""), created, keyid: orgKey.keyid });
  const signature = new Uint8Array(await globalThis.crypto.subtle.sign({ name: "Ed25519" }, orgKey.key, utf8(base)));
  return { "Signature-Input": `cinnabar=${params}`, Signature: `cinnabar=:${base64Encode(signature)}:` };
}
