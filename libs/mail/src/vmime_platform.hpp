#pragma once
// vmime needs a platform handler (sockets, time, host name) before any use; every entry
// point of libs/mail calls this first. Idempotent and thread-safe.
namespace faxbridge::mail::detail {
void ensure_vmime_platform();
}
