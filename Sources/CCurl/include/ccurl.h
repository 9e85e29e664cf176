#ifndef SONDE_CCURL_H
#define SONDE_CCURL_H

#include <curl/curl.h>

/* libcurl's setopt/getinfo are variadic C functions, which Swift cannot call.
   These static inline wrappers give each argument shape sonde uses a fixed signature. */

static inline CURLcode sonde_easy_setopt_long(CURL *h, CURLoption o, long v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode sonde_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode sonde_easy_setopt_ptr(CURL *h, CURLoption o, const void *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode sonde_easy_setopt_string(CURL *h, CURLoption o, const char *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode sonde_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) {
    return curl_easy_setopt(h, o, v);
}
typedef size_t (*sonde_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode sonde_easy_setopt_data_callback(CURL *h, CURLoption o, sonde_data_callback f) {
    return curl_easy_setopt(h, o, f);
}
typedef int (*sonde_xferinfo_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
                                       curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode sonde_easy_setopt_xferinfo(CURL *h, sonde_xferinfo_callback f) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f);
}

static inline CURLcode sonde_easy_getinfo_long(CURL *h, CURLINFO i, long *out) {
    return curl_easy_getinfo(h, i, out);
}
static inline CURLcode sonde_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *out) {
    return curl_easy_getinfo(h, i, out);
}
static inline CURLcode sonde_easy_getinfo_string(CURL *h, CURLINFO i, char **out) {
    return curl_easy_getinfo(h, i, out);
}
static inline CURLcode sonde_easy_getinfo_ptr(CURL *h, CURLINFO i, void **out) {
    return curl_easy_getinfo(h, i, out);
}
static inline CURLcode sonde_easy_getinfo_certinfo(CURL *h, struct curl_certinfo **out) {
    return curl_easy_getinfo(h, CURLINFO_CERTINFO, out);
}

/* Bit masks and features that are macros of expressions, which Swift does not import. */
static inline long sonde_curlauth_basic(void) { return (long)CURLAUTH_BASIC; }
static inline long sonde_curlauth_digest(void) { return (long)CURLAUTH_DIGEST; }
static inline long sonde_curlauth_ntlm(void) { return (long)CURLAUTH_NTLM; }
static inline int sonde_curl_has_http2(void) {
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2) != 0;
}
static inline int sonde_curl_has_http3(void) {
#ifdef CURL_VERSION_HTTP3
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP3) != 0;
#else
    return 0;
#endif
}
static inline int sonde_curl_has_ntlm(void) {
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_NTLM) != 0;
}
static inline const char *sonde_curl_version(void) { return curl_version_info(CURLVERSION_NOW)->version; }

static inline CURLMcode sonde_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
    return curl_multi_setopt(m, o, v);
}

static inline CURLSHcode sonde_share_setopt_long(CURLSH *s, CURLSHoption o, long v) {
    return curl_share_setopt(s, o, v);
}

#endif
