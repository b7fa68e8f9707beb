// Ed25519 verification with a precomputed table per public key.
//
// libsodium verifies a signature with one variable-base double scalar multiplication: about 253
// point doublings for every signature, whoever signed it. The writers and validators of a
// consortium are a few dozen registered keys, each signing thousands of times. For such a key,
// the multiples [j·64^i]A (i < 43, 1 ≤ j ≤ 32) can be computed once (165 KB, under a
// millisecond), as they are for the base point B, and then [S]B − [h]A costs about 84 mixed
// point additions and no doubling. The limit line of every record benchmark prints both rates
// (`cinnabar bench ingest`); BENCHMARKS.md has the figures.
//
// The result is the same predicate as libsodium's crypto_sign_verify_detached, not a close one:
// - S must be canonical (S < L);
// - R must not be a point of small order (libsodium's rule). enc([S]B − [h]A) is the canonical
//   encoding of a point of the prime-order subgroup, and the only small-order point there is the
//   identity, so R = identity is refused explicitly and every other small-order R fails the
//   final comparison;
// - the key must pass crypto_core_ed25519_is_valid_point (canonical, on the curve, of prime
//   order), which is stricter than what libsodium's verify requires of a key: a table is built
//   only for such keys, and any other key is verified by libsodium itself;
// - h = SHA-512(R ‖ A ‖ M) mod L, and the signature is valid iff enc([S]B − [h]A) = R, byte for
//   byte, as libsodium compares it.
// That is libsodium 1.0.18's predicate (Debian 12's). Later releases may decode R and accept R
// plus a point of small order, which the comparison of encodings refuses; so tables are built
// only when the libsodium loaded is 1.0.18, and any other version verifies everything itself.
// Tests/CinnabarCryptoTests/Ed25519TableTests.swift checks both against each other: the RFC 8032
// vectors, random keys and messages, every single-bit change of a signature, S ≥ L, R of small
// order or with a torsion component, and the combination itself against libsodium's scalar
// multiplications.
//
// Everything here handles public data only (keys, signatures, messages), so it may and does run in
// variable time: table lookups are indexed by the digits of public scalars.
//
// Field elements are five 51-bit limbs of GF(2^255 − 19); every operation leaves each limb below
// 2^51 + 2^15 ("carried"), which every operation accepts as input. Points are extended twisted
// Edwards coordinates (X:Y:Z:T) on −x² + y² = 1 + d·x²·y², and table entries are affine
// (y + x, y − x, 2d·x·y). The formulas are those of Hisil, Wong, Carter and Dawson, "Twisted
// Edwards Curves Revisited" (2008), §3.1 and §3.3, for a = −1; with a = −1 a square and d not,
// the addition law is complete.
#include "ccinnabar.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

#define MASK51 ((UINT64_C(1) << 51) - 1)

typedef struct { uint64_t v[5]; } fe;

static void fe_set_small(fe *h, uint64_t n) {
    memset(h, 0, sizeof *h);
    h->v[0] = n;
}

// Brings every limb under 2^51, folding the carry out of the top limb back in as ×19
// (2^255 ≡ 19); limb 0 may end slightly above 2^51.
static inline __attribute__((always_inline)) void fe_carry(fe *h) {
    uint64_t c;
    c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
    c = h->v[1] >> 51; h->v[1] &= MASK51; h->v[2] += c;
    c = h->v[2] >> 51; h->v[2] &= MASK51; h->v[3] += c;
    c = h->v[3] >> 51; h->v[3] &= MASK51; h->v[4] += c;
    c = h->v[4] >> 51; h->v[4] &= MASK51; h->v[0] += 19 * c;
}

static inline __attribute__((always_inline)) void fe_add(fe *h, const fe *f, const fe *g) {
    for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
    fe_carry(h);
}

// f − g + 2p: every limb of 2p exceeds the largest limb a carried g can have.
static inline __attribute__((always_inline)) void fe_sub(fe *h, const fe *f, const fe *g) {
    h->v[0] = f->v[0] + (2 * (MASK51 - 18)) - g->v[0];
    for (int i = 1; i < 5; i++) h->v[i] = f->v[i] + (2 * MASK51) - g->v[i];
    fe_carry(h);
}

static void fe_neg(fe *h, const fe *f) {
    fe zero;
    fe_set_small(&zero, 0);
    fe_sub(h, &zero, f);
}

// h = the 128-bit limb sums of a product, carried down to 51-bit limbs.
static inline __attribute__((always_inline)) void fe_carry_wide(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    uint64_t h0 = (uint64_t)r0 & MASK51, h1 = (uint64_t)r1 & MASK51, h2 = (uint64_t)r2 & MASK51;
    uint64_t h3 = (uint64_t)r3 & MASK51, h4 = (uint64_t)r4 & MASK51;
    h0 += 19 * (uint64_t)(r4 >> 51);
    h1 += h0 >> 51;
    h0 &= MASK51;
    h->v[0] = h0; h->v[1] = h1; h->v[2] = h2; h->v[3] = h3; h->v[4] = h4;
}

static inline __attribute__((always_inline)) void fe_mul(fe *h, const fe *f, const fe *g) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
    const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
    u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
    u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
    u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
    u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
    fe_carry_wide(h, r0, r1, r2, r3, r4);
}

static inline __attribute__((always_inline)) void fe_sq(fe *h, const fe *f) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1;
    const uint64_t f1_38 = 38 * f1, f2_38 = 38 * f2, f3_38 = 38 * f3, f3_19 = 19 * f3, f4_19 = 19 * f4;
    u128 r0 = (u128)f0 * f0 + (u128)f1_38 * f4 + (u128)f2_38 * f3;
    u128 r1 = (u128)f0_2 * f1 + (u128)f2_38 * f4 + (u128)f3_19 * f3;
    u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)f3_38 * f4;
    u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4_19 * f4;
    u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
    fe_carry_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sq_times(fe *h, const fe *f, int n) {
    fe_sq(h, f);
    for (int i = 1; i < n; i++) fe_sq(h, h);
}

// z^(2^250 − 1) and z^11: the common start of inversion and of the square root's power.
static void fe_pow_2_250_1(fe *z_250_0, fe *z11, const fe *z) {
    fe z2, z9, t, z_5_0, z_10_0, z_20_0, z_40_0, z_50_0, z_100_0, z_200_0;
    fe_sq(&z2, z);
    fe_sq_times(&t, &z2, 2);
    fe_mul(&z9, &t, z);
    fe_mul(z11, &z9, &z2);
    fe_sq(&t, z11);
    fe_mul(&z_5_0, &t, &z9);
    fe_sq_times(&t, &z_5_0, 5);
    fe_mul(&z_10_0, &t, &z_5_0);
    fe_sq_times(&t, &z_10_0, 10);
    fe_mul(&z_20_0, &t, &z_10_0);
    fe_sq_times(&t, &z_20_0, 20);
    fe_mul(&z_40_0, &t, &z_20_0);
    fe_sq_times(&t, &z_40_0, 10);
    fe_mul(&z_50_0, &t, &z_10_0);
    fe_sq_times(&t, &z_50_0, 50);
    fe_mul(&z_100_0, &t, &z_50_0);
    fe_sq_times(&t, &z_100_0, 100);
    fe_mul(&z_200_0, &t, &z_100_0);
    fe_sq_times(&t, &z_200_0, 50);
    fe_mul(z_250_0, &t, &z_50_0);
}

// z^(p − 2) = z^(2^255 − 21) = 1/z (0 for 0).
static void fe_invert(fe *out, const fe *z) {
    fe t, z11;
    fe_pow_2_250_1(&t, &z11, z);
    fe_sq_times(&t, &t, 5);
    fe_mul(out, &t, &z11);
}

// z^((p − 5)/8) = z^(2^252 − 3).
static void fe_pow22523(fe *out, const fe *z) {
    fe t, z11;
    fe_pow_2_250_1(&t, &z11, z);
    fe_sq_times(&t, &t, 2);
    fe_mul(out, &t, z);
}

static uint64_t load64_le(const uint8_t *s) {
    uint64_t r = 0;
    for (int i = 7; i >= 0; i--) r = (r << 8) | s[i];
    return r;
}

static void store64_le(uint8_t *s, uint64_t v) {
    for (int i = 0; i < 8; i++) { s[i] = (uint8_t)v; v >>= 8; }
}

// The low 255 bits of s, as a field element (not reduced below p).
static void fe_frombytes(fe *h, const uint8_t s[32]) {
    h->v[0] = load64_le(s) & MASK51;
    h->v[1] = (load64_le(s + 6) >> 3) & MASK51;
    h->v[2] = (load64_le(s + 12) >> 6) & MASK51;
    h->v[3] = (load64_le(s + 19) >> 1) & MASK51;
    h->v[4] = (load64_le(s + 24) >> 12) & MASK51;
}

// The unique representative below p, little-endian.
static void fe_tobytes(uint8_t s[32], const fe *f) {
    fe h = *f;
    fe_carry(&h);
    fe_carry(&h);
    // Now h < 2^255 + 2^16 < 2p. q = 1 iff h + 19 ≥ 2^255, i.e. iff h ≥ p.
    uint64_t q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;
    h.v[0] += 19 * q;
    uint64_t c;
    c = h.v[0] >> 51; h.v[0] &= MASK51; h.v[1] += c;
    c = h.v[1] >> 51; h.v[1] &= MASK51; h.v[2] += c;
    c = h.v[2] >> 51; h.v[2] &= MASK51; h.v[3] += c;
    c = h.v[3] >> 51; h.v[3] &= MASK51; h.v[4] += c;
    h.v[4] &= MASK51;  // drops the 2^255 that, with the 19 added, subtracted p
    store64_le(s, h.v[0] | (h.v[1] << 51));
    store64_le(s + 8, (h.v[1] >> 13) | (h.v[2] << 38));
    store64_le(s + 16, (h.v[2] >> 26) | (h.v[3] << 25));
    store64_le(s + 24, (h.v[3] >> 39) | (h.v[4] << 12));
}

static int fe_equal(const fe *f, const fe *g) {
    uint8_t a[32], b[32];
    fe_tobytes(a, f);
    fe_tobytes(b, g);
    return memcmp(a, b, 32) == 0;
}

static int fe_is_odd(const fe *f) {
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

// ---- The curve ----

typedef struct { fe X, Y, Z, T; } point;        // extended: x = X/Z, y = Y/Z, x·y = T/Z
typedef struct { fe ypx, ymx, xy2d; } affine;  // y + x, y − x, 2d·x·y

typedef struct {
    fe d, d2, sqrtm1;
    point base;
} curve_constants;

static curve_constants K;

static void point_identity(point *p) {
    fe_set_small(&p->X, 0);
    fe_set_small(&p->Y, 1);
    fe_set_small(&p->Z, 1);
    fe_set_small(&p->T, 0);
}

// r = p + q (add-2008-hwcd-3 with k = 2d).
static void point_add(point *r, const point *p, const point *q) {
    fe a, b, c, d, e, f, g, h, t;
    fe_sub(&a, &p->Y, &p->X);
    fe_sub(&t, &q->Y, &q->X);
    fe_mul(&a, &a, &t);
    fe_add(&b, &p->Y, &p->X);
    fe_add(&t, &q->Y, &q->X);
    fe_mul(&b, &b, &t);
    fe_mul(&c, &p->T, &q->T);
    fe_mul(&c, &c, &K.d2);
    fe_mul(&d, &p->Z, &q->Z);
    fe_add(&d, &d, &d);
    fe_sub(&e, &b, &a);
    fe_sub(&f, &d, &c);
    fe_add(&g, &d, &c);
    fe_add(&h, &b, &a);
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->T, &e, &h);
    fe_mul(&r->Z, &f, &g);
}

// r = 2p (dbl-2008-hwcd with a = −1).
static void point_double(point *r, const point *p) {
    fe a, b, c, e, g, f, h, t;
    fe_sq(&a, &p->X);
    fe_sq(&b, &p->Y);
    fe_sq(&c, &p->Z);
    fe_add(&c, &c, &c);
    fe_add(&t, &p->X, &p->Y);
    fe_sq(&e, &t);
    fe_sub(&e, &e, &a);
    fe_sub(&e, &e, &b);      // E = (X + Y)² − A − B = 2XY
    fe_sub(&g, &b, &a);      // G = a·A + B
    fe_sub(&f, &g, &c);      // F = G − C
    fe_add(&h, &a, &b);
    fe_neg(&h, &h);          // H = a·A − B
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->T, &e, &h);
    fe_mul(&r->Z, &f, &g);
}

// r = p + q (q affine) when sign > 0, r = p − q when sign < 0.
static void point_add_affine(point *r, const point *p, const affine *q, int sign) {
    fe a, b, c, d, e, f, g, h;
    fe_sub(&a, &p->Y, &p->X);
    fe_add(&b, &p->Y, &p->X);
    if (sign > 0) {
        fe_mul(&a, &a, &q->ymx);
        fe_mul(&b, &b, &q->ypx);
    } else {  // −q = (−x, y): y + x and y − x swap, 2d·x·y changes sign
        fe_mul(&a, &a, &q->ypx);
        fe_mul(&b, &b, &q->ymx);
    }
    fe_mul(&c, &p->T, &q->xy2d);
    fe_add(&d, &p->Z, &p->Z);
    fe_sub(&e, &b, &a);
    fe_add(&h, &b, &a);
    if (sign > 0) {
        fe_sub(&f, &d, &c);
        fe_add(&g, &d, &c);
    } else {
        fe_add(&f, &d, &c);
        fe_sub(&g, &d, &c);
    }
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->T, &e, &h);
    fe_mul(&r->Z, &f, &g);
}

static void point_encode(uint8_t s[32], const point *p) {
    fe zinv, x, y;
    fe_invert(&zinv, &p->Z);
    fe_mul(&x, &p->X, &zinv);
    fe_mul(&y, &p->Y, &zinv);
    fe_tobytes(s, &y);
    s[31] |= (uint8_t)(fe_is_odd(&x) << 7);
}

// The point with this y whose x has parity `odd`; 0 on success, −1 if there is none.
static int point_from_y(point *p, const fe *y, int odd) {
    fe u, v, v3, vxx, x, t, one;
    fe_set_small(&one, 1);
    fe_sq(&u, y);
    fe_mul(&v, &u, &K.d);
    fe_sub(&u, &u, &one);   // u = y² − 1
    fe_add(&v, &v, &one);   // v = d·y² + 1
    fe_sq(&v3, &v);
    fe_mul(&v3, &v3, &v);   // v³
    fe_sq(&x, &v3);
    fe_mul(&x, &x, &v);
    fe_mul(&x, &x, &u);     // u·v⁷
    fe_pow22523(&x, &x);
    fe_mul(&x, &x, &v3);
    fe_mul(&x, &x, &u);     // x = u·v³·(u·v⁷)^((p−5)/8), a square root of u/v up to √−1
    fe_sq(&vxx, &x);
    fe_mul(&vxx, &vxx, &v);
    if (!fe_equal(&vxx, &u)) {
        fe_neg(&t, &u);
        if (!fe_equal(&vxx, &t)) return -1;
        fe_mul(&x, &x, &K.sqrtm1);
    }
    fe zero;
    fe_set_small(&zero, 0);
    if (odd && fe_equal(&x, &zero)) return -1;
    if (fe_is_odd(&x) != odd) fe_neg(&x, &x);
    p->X = x;
    p->Y = *y;
    fe_set_small(&p->Z, 1);
    fe_mul(&p->T, &x, y);
    return 0;
}

// ---- Tables ----

#ifndef WINDOW
#define WINDOW 6  // 165 KB per key; 8 bits is faster only in a tight loop (BENCHMARKS.md)
#endif
#define POSITIONS ((256 + WINDOW - 1) / WINDOW)  // signed radix-2^WINDOW digits of a 256-bit scalar
#define MULTIPLES (1 << (WINDOW - 1))            // digits are −MULTIPLES…MULTIPLES

typedef struct { affine entry[POSITIONS][MULTIPLES]; } table;

struct ccinnabar_ed25519_table {
    uint8_t key[32];
    table negated;  // the multiples of −A, so that [h](−A) is a sum like [S]B
};

static table *base_table;
static int tables_allowed;

// t.entry[i][j] = [(j + 1)·2^(WINDOW·i)]p. The multiples of one position share one inversion
// (Montgomery's trick).
static void table_fill(table *t, const point *p) {
    point position = *p;
    point multiple[MULTIPLES];
    fe prefix[MULTIPLES], inverse, zinv, x, y;
    for (int i = 0; i < POSITIONS; i++) {
        multiple[0] = position;
        for (int j = 1; j < MULTIPLES; j++) point_add(&multiple[j], &multiple[j - 1], &position);
        prefix[0] = multiple[0].Z;
        for (int j = 1; j < MULTIPLES; j++) fe_mul(&prefix[j], &prefix[j - 1], &multiple[j].Z);
        fe_invert(&inverse, &prefix[MULTIPLES - 1]);  // 1/(Z_0·…·Z_last)
        for (int j = MULTIPLES - 1; j >= 0; j--) {
            if (j > 0) {
                fe_mul(&zinv, &inverse, &prefix[j - 1]);
                fe_mul(&inverse, &inverse, &multiple[j].Z);
            } else {
                zinv = inverse;
            }
            affine *e = &t->entry[i][j];
            fe_mul(&x, &multiple[j].X, &zinv);
            fe_mul(&y, &multiple[j].Y, &zinv);
            fe_add(&e->ypx, &y, &x);
            fe_sub(&e->ymx, &y, &x);
            fe_mul(&e->xy2d, &x, &y);
            fe_mul(&e->xy2d, &e->xy2d, &K.d2);
        }
        for (int k = 0; k < WINDOW; k++) point_double(&position, &position);
    }
}

static void constants_init(void) {
    fe t, u, z_250_0, z11;
    // d = −121665/121666.
    fe_set_small(&t, 121666);
    fe_invert(&t, &t);
    fe_set_small(&u, 121665);
    fe_mul(&t, &t, &u);
    fe_neg(&K.d, &t);
    fe_add(&K.d2, &K.d, &K.d);
    // √−1 = 2^((p − 1)/4) = 2^(2^253 − 5), since 2 is not a square mod p.
    fe_set_small(&t, 2);
    fe_pow_2_250_1(&z_250_0, &z11, &t);
    fe_sq_times(&u, &z_250_0, 3);           // 2^(2^253 − 8)
    fe_set_small(&t, 8);
    fe_mul(&K.sqrtm1, &u, &t);              // × 2³
    // B: y = 4/5, x even.
    fe_set_small(&t, 5);
    fe_invert(&t, &t);
    fe_set_small(&u, 4);
    fe_mul(&t, &t, &u);
    if (point_from_y(&K.base, &t, 0) != 0) return;
    table *b = malloc(sizeof(table));
    if (b == NULL) return;  // no tables: every key stays with libsodium
    table_fill(b, &K.base);
    base_table = b;
    tables_allowed = strcmp(sodium_version_string(), "1.0.18") == 0;
}

static pthread_once_t constants_once = PTHREAD_ONCE_INIT;

// ---- Scalars ----

// a as POSITIONS signed digits in −MULTIPLES…MULTIPLES: a = Σ e[i]·2^(WINDOW·i). With WINDOW 6
// the top position holds bits 252–255 only, so its digit stays within bounds for any 32 bytes
// (with 4 or 8 it would not above 2^255; verification's scalars are below 2^253 anyway).
static void scalar_digits(int e[POSITIONS], const uint8_t a[32]) {
    int carry = 0;
    for (int i = 0; i < POSITIONS; i++) {
        int bit = WINDOW * i, digit = 0;
        for (int k = 0; k < WINDOW && bit + k < 256; k++) digit |= ((a[(bit + k) >> 3] >> ((bit + k) & 7)) & 1) << k;
        digit += carry;
        carry = (digit + MULTIPLES) >> WINDOW;
        digit -= carry << WINDOW;
        e[i] = digit;
    }
}

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
static const uint8_t group_order[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
};

static int scalar_is_canonical(const uint8_t s[32]) {
    for (int i = 31; i >= 0; i--) {
        if (s[i] < group_order[i]) return 1;
        if (s[i] > group_order[i]) return 0;
    }
    return 0;  // s = L
}

// [s]B − [h]A, both scalars below 2^253.
static void combination(point *p, const ccinnabar_ed25519_table *key, const uint8_t s[32], const uint8_t h[32]) {
    int es[POSITIONS], eh[POSITIONS];
    scalar_digits(es, s);
    scalar_digits(eh, h);
    point_identity(p);
    for (int i = 0; i < POSITIONS; i++) {
        if (es[i] > 0) point_add_affine(p, p, &base_table->entry[i][es[i] - 1], 1);
        else if (es[i] < 0) point_add_affine(p, p, &base_table->entry[i][-es[i] - 1], -1);
        if (eh[i] > 0) point_add_affine(p, p, &key->negated.entry[i][eh[i] - 1], 1);
        else if (eh[i] < 0) point_add_affine(p, p, &key->negated.entry[i][-eh[i] - 1], -1);
    }
}

// ---- The interface ----

ccinnabar_ed25519_table *ccinnabar_ed25519_table_new(const uint8_t key[32]) {
    if (sodium_init() < 0) return NULL;
    if (!crypto_core_ed25519_is_valid_point(key)) return NULL;
    pthread_once(&constants_once, constants_init);
    if (base_table == NULL || !tables_allowed) return NULL;
    fe y;
    fe_frombytes(&y, key);
    point a;
    if (point_from_y(&a, &y, key[31] >> 7) != 0) return NULL;
    uint8_t again[32];
    point_encode(again, &a);
    if (memcmp(again, key, 32) != 0) return NULL;  // cannot happen for a canonical key
    ccinnabar_ed25519_table *t = malloc(sizeof *t);
    if (t == NULL) return NULL;
    memcpy(t->key, key, 32);
    fe_neg(&a.X, &a.X);
    fe_neg(&a.T, &a.T);
    table_fill(&t->negated, &a);
    return t;
}

void ccinnabar_ed25519_table_free(ccinnabar_ed25519_table *t) { free(t); }

int ccinnabar_ed25519_verify(const ccinnabar_ed25519_table *key, const uint8_t signature[64],
                             const uint8_t *message, size_t length) {
    const uint8_t *r = signature, *s = signature + 32;
    if (!scalar_is_canonical(s)) return -1;
    static const uint8_t identity[32] = {1};
    if (memcmp(r, identity, 31) == 0 && (r[31] & 0x7f) == 0) return -1;
    crypto_hash_sha512_state state;
    uint8_t digest[64], h[32];
    crypto_hash_sha512_init(&state);
    crypto_hash_sha512_update(&state, r, 32);
    crypto_hash_sha512_update(&state, key->key, 32);
    crypto_hash_sha512_update(&state, message, length);
    crypto_hash_sha512_final(&state, digest);
    crypto_core_ed25519_scalar_reduce(h, digest);
    point p;
    combination(&p, key, s, h);
    uint8_t check[32];
    point_encode(check, &p);
    return memcmp(check, r, 32) == 0 ? 0 : -1;
}

void ccinnabar_ed25519_combination(const ccinnabar_ed25519_table *key, const uint8_t s[32],
                                   const uint8_t h[32], uint8_t out[32]) {
    point p;
    combination(&p, key, s, h);
    point_encode(out, &p);
}
