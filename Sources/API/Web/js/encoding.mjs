// Byte encodings the verifier reads: strict standard base64 (RFC 4648 §4, as
// Sources/CinnabarCrypto/Base64.swift), hex, base58btc multibase (Multikey), UTF-8, big-endian
// integers. Pure functions over Uint8Array; no I/O.

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_VALUES = new Int16Array(256).fill(-1);
for (let i = 0; i < BASE64.length; i++) BASE64_VALUES[BASE64.charCodeAt(i)] = i;

/** Standard base64 with `=` padding. */
export function base64Encode(bytes) {
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64[(n >> 18) & 63] + BASE64[(n >> 12) & 63] + BASE64[(n >> 6) & 63] + BASE64[n & 63];
  }
  if (bytes.length - i === 1) {
    const n = bytes[i] << 16;
    out += BASE64[(n >> 18) & 63] + BASE64[(n >> 12) & 63] + "==";
  } else if (bytes.length - i === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += BASE64[(n >> 18) & 63] + BASE64[(n >> 12) & 63] + BASE64[(n >> 6) & 63] + "=";
  }
  return out;
}

/**
 * Strict standard base64: null on a character outside the alphabet, missing or extra padding,
 * or non-zero trailing bits, so every byte string has exactly one encoding (as the Swift decoder).
 */
export function base64Decode(text) {
  if (typeof text !== "string" || text.length % 4 !== 0) return null;
  const out = new Uint8Array((text.length / 4) * 3);
  let length = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const pad = last ? (text[i + 3] === "=" ? (text[i + 2] === "=" ? 2 : 1) : 0) : 0;
    let n = 0;
    for (let j = 0; j < 4 - pad; j++) {
      const code = text.charCodeAt(i + j);
      const v = code < 256 ? BASE64_VALUES[code] : -1;
      if (v < 0) return null;
      n |= v << (18 - 6 * j);
    }
    out[length++] = (n >> 16) & 0xff;
    if (pad < 2) out[length++] = (n >> 8) & 0xff;
    else if ((n & 0xffff) !== 0) return null;
    if (pad < 1) out[length++] = n & 0xff;
    else if ((n & 0xff) !== 0) return null;
  }
  return out.slice(0, length);
}

/** Lower-case hex. */
export function hexEncode(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of an even-length hex string (either case), or null. */
export function hexDecode(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** 'z' + base58btc (the multibase form of Multikey keys and Data Integrity proof values). */
export function base58btcEncode(bytes) {
  const digits = []; // base-58 digits of the number, least significant first
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i] * 256;
      digits[i] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = "z";
  for (const byte of bytes) {
    if (byte !== 0) break;
    out += "1"; // each leading zero byte is one '1'
  }
  for (let i = digits.length - 1; i >= 0; i--) out += BASE58[digits[i]];
  return out;
}

/** The bytes of a 'z'-prefixed base58btc multibase string, or null. */
export function base58btcDecode(text) {
  if (typeof text !== "string" || !text.startsWith("z")) return null;
  const body = text.slice(1);
  const bytes = []; // the number's bytes, least significant first
  for (const c of body) {
    let carry = BASE58.indexOf(c);
    if (carry < 0) return null;
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i] * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  let zeros = 0;
  while (zeros < body.length && body[zeros] === "1") zeros++;
  return Uint8Array.from([...new Array(zeros).fill(0), ...bytes.reverse()]);
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(text) {
  return encoder.encode(text);
}

/** The string of valid UTF-8 bytes, or null if they are not valid UTF-8. */
export function utf8Decode(bytes) {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/** The concatenation of byte arrays. */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Whether two byte arrays hold the same bytes. */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Big-endian unsigned integer of `bytes` (at most 8) as a BigInt. */
export function readUintBE(bytes) {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}
