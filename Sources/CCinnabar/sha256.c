// Per-thread SHA-256 context over a digest fetched once (see include/ccinnabar.h).
#include "ccinnabar.h"
#include <openssl/evp.h>
#include <pthread.h>

static EVP_MD *sha256_md = NULL;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_MD_CTX *thread_ctx = NULL;
static pthread_key_t ctx_key;

static void free_ctx(void *ctx) { EVP_MD_CTX_free((EVP_MD_CTX *)ctx); }

static void fetch_sha256(void) {
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    pthread_key_create(&ctx_key, free_ctx);
}

int ccinnabar_sha256_3(const void *a, size_t alen, const void *b, size_t blen,
                       const void *c, size_t clen, uint8_t out[32]) {
    pthread_once(&sha256_once, fetch_sha256);
    if (sha256_md == NULL) return 0;
    if (thread_ctx == NULL) {
        thread_ctx = EVP_MD_CTX_new();
        if (thread_ctx == NULL) return 0;
        // The key's destructor frees the context when the thread exits.
        pthread_setspecific(ctx_key, thread_ctx);
    }
    unsigned int outlen = 0;
    if (!EVP_DigestInit_ex2(thread_ctx, sha256_md, NULL)) return 0;
    if (alen && !EVP_DigestUpdate(thread_ctx, a, alen)) return 0;
    if (blen && !EVP_DigestUpdate(thread_ctx, b, blen)) return 0;
    if (clen && !EVP_DigestUpdate(thread_ctx, c, clen)) return 0;
    if (!EVP_DigestFinal_ex(thread_ctx, out, &outlen)) return 0;
    return outlen == 32;
}
