#include "adapters/host/http_probe.hpp"

#include <curl/curl.h>

#include <chrono>
#include <memory>

#include <fmt/format.h>

namespace nodeimg {

namespace {
std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() > 65536) return 0;  // healthz answers a few bytes; stop a runaway peer
  body->append(data, size * n);
  return size * n;
}
}  // namespace

Result<std::string> http_get(const std::string& url, Duration timeout) {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return fail("libcurl failed to initialize");
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return fail("libcurl: no handle");
  std::string body;
  const long ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  // kubelet's healthz is plain HTTP on loopback; an https URL given by the operator is
  // served with kubelet's self-signed certificate.
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 0L);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) return fail(fmt::format("GET {}: {}", url, curl_easy_strerror(rc)));
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return fail(fmt::format("GET {}: HTTP {}: {}", url, status, body.substr(0, 200)));
  return body;
}

}  // namespace nodeimg
