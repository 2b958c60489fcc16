#pragma once
// Stable error codes (ClickHouse style): one table, each row a dotted name that is a
// contract (logs, HTTP bodies, the DB error_code column, bus messages, docs/errors.md)
// and a kind that says what the caller may do about it (Abseil's guidance):
//   kUnavailable        retry the same call after a backoff
//   kAborted            retry at the job level (a new attempt)
//   kFailedPrecondition do not retry until somebody fixes the state
//   kOutcomeUnknown     it may have happened: a person or a reconciler decides
// Names are never reused. A retired code stays here as a comment.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faxbridge {

enum class ErrorKind {
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
  kUnavailable,
  kAborted,
  kResourceExhausted,
  kOutcomeUnknown,
  kInternal,
};

// X(enumerator, "dotted.name", kind)
#define FAXBRIDGE_ERROR_CODES(X)                                                      \
  X(internal, "internal", kInternal)                                                  \
  X(config_invalid, "config.invalid", kInvalidArgument)                               \
  X(io_failed, "io.failed", kUnavailable)                                             \
  X(io_not_found, "io.not_found", kNotFound)                                          \
  X(db_unavailable, "db.unavailable", kUnavailable)                                   \
  X(db_conflict, "db.conflict", kAborted)                                             \
  X(db_outcome_unknown, "db.outcome_unknown", kOutcomeUnknown)                        \
  X(db_constraint, "db.constraint", kFailedPrecondition)                              \
  X(db_query_failed, "db.query_failed", kInternal)                                    \
  X(db_migration_failed, "db.migration_failed", kFailedPrecondition)                  \
  X(db_schema_too_new, "db.schema_too_new", kFailedPrecondition)                      \
  X(bus_unavailable, "bus.unavailable", kUnavailable)                                 \
  X(bus_malformed_message, "bus.malformed_message", kInvalidArgument)                 \
  X(queue_lease_lost, "queue.lease_lost", kAborted)                                   \
  X(queue_claims_exhausted, "queue.claims_exhausted", kFailedPrecondition)            \
  X(phone_empty, "phone.empty", kInvalidArgument)                                     \
  X(phone_invalid, "phone.invalid", kInvalidArgument)                                 \
  X(phone_too_long, "phone.too_long", kInvalidArgument)                               \
  X(reference_invalid, "reference.invalid", kInvalidArgument)                         \
  X(reference_exhausted, "reference.exhausted", kResourceExhausted)                   \
  X(setting_unknown, "setting.unknown", kInvalidArgument)                             \
  X(setting_invalid, "setting.invalid", kInvalidArgument)                             \
  X(user_not_found, "user.not_found", kNotFound)                                      \
  X(user_exists, "user.exists", kAlreadyExists)                                       \
  X(user_invalid, "user.invalid", kInvalidArgument)                                   \
  X(auth_password_invalid, "auth.password_invalid", kInvalidArgument)                 \
  X(auth_send_not_enabled, "auth.send_not_enabled", kPermissionDenied)                \
  X(auth_account_disabled, "auth.account_disabled", kPermissionDenied)                \
  X(auth_token_not_found, "auth.token_not_found", kNotFound)                          \
  X(auth_current_password_wrong, "auth.current_password_wrong", kPermissionDenied)   \
  X(auth_session_required, "auth.session_required", kPermissionDenied)               \
  X(job_not_found, "job.not_found", kNotFound)                                        \
  X(job_not_cancellable, "job.not_cancellable", kFailedPrecondition)                  \
  X(route_no_default, "route.no_default", kFailedPrecondition)                        \
  X(route_not_found, "route.not_found", kNotFound)                                    \
  X(route_no_gateway, "route.no_gateway", kFailedPrecondition)                        \
  X(call_busy, "call.busy", kAborted)                                                 \
  X(call_no_answer, "call.no_answer", kAborted)                                       \
  X(call_invalid_number, "call.invalid_number", kFailedPrecondition)                  \
  X(call_not_authorised, "call.not_authorised", kPermissionDenied)                    \
  X(call_route_failed, "call.route_failed", kUnavailable)                             \
  X(call_cancelled, "call.cancelled", kFailedPrecondition)                            \
  X(call_interrupted, "call.interrupted", kAborted)                                   \
  X(call_media_refused, "call.media_refused", kFailedPrecondition)                    \
  X(call_rejected, "call.rejected", kAborted)                                         \
  X(sip_start_failed, "sip.start_failed", kUnavailable)                               \
  X(sip_call_not_found, "sip.call_not_found", kNotFound)                              \
  X(sip_invalid_state, "sip.invalid_state", kFailedPrecondition)                      \
  X(sip_invalid_target, "sip.invalid_target", kInvalidArgument)                      \
  X(sip_registration_failed, "sip.registration_failed", kUnavailable)                \
  X(fax_partially_sent, "fax.partially_sent", kFailedPrecondition)                    \
  X(fax_no_pages_confirmed, "fax.no_pages_confirmed", kAborted)                       \
  X(inbound_no_recipient, "inbound.no_recipient", kFailedPrecondition)                \
  X(service_stopping, "service.stopping", kUnavailable)                               \
  X(http_not_found, "http.not_found", kNotFound)                                      \
  X(api_not_found, "api.not_found", kNotFound)                                        \
  X(api_method_not_allowed, "api.method_not_allowed", kInvalidArgument)               \
  X(api_bad_request, "api.bad_request", kInvalidArgument)                             \
  X(api_uri_too_long, "api.uri_too_long", kInvalidArgument)                           \
  X(api_length_required, "api.length_required", kInvalidArgument)                     \
  X(api_body_too_large, "api.body_too_large", kInvalidArgument)                       \
  X(api_unsupported_media_type, "api.unsupported_media_type", kInvalidArgument)       \
  X(api_invalid_json, "api.invalid_json", kInvalidArgument)                           \
  X(api_multipart_invalid, "api.multipart_invalid", kInvalidArgument)                 \
  X(api_validation_failed, "api.validation_failed", kInvalidArgument)                 \
  X(api_field_required, "api.field_required", kInvalidArgument)                       \
  X(api_field_unknown, "api.field_unknown", kInvalidArgument)                         \
  X(api_field_wrong_type, "api.field_wrong_type", kInvalidArgument)                   \
  X(api_field_too_short, "api.field_too_short", kInvalidArgument)                     \
  X(api_field_too_long, "api.field_too_long", kInvalidArgument)                       \
  X(api_field_out_of_range, "api.field_out_of_range", kInvalidArgument)               \
  X(api_field_invalid, "api.field_invalid", kInvalidArgument)                         \
  X(api_unauthenticated, "api.unauthenticated", kUnauthenticated)                     \
  X(api_forbidden, "api.forbidden", kPermissionDenied)                                \
  X(api_csrf_invalid, "api.csrf_invalid", kPermissionDenied)                          \
  X(api_rate_limited, "api.rate_limited", kResourceExhausted)                         \
  X(api_internal, "api.internal", kInternal)                                          \
  X(api_idempotency_key_reused, "api.idempotency_key_reused", kInvalidArgument)       \
  X(api_idempotency_in_progress, "api.idempotency_in_progress", kAborted)             \
  X(api_cursor_invalid, "api.cursor_invalid", kInvalidArgument)                       \
  X(fax_not_found, "fax.not_found", kNotFound)                                        \
  X(fax_not_resendable, "fax.not_resendable", kFailedPrecondition)                    \
  X(fax_page_not_found, "fax.page_not_found", kNotFound)                              \
  X(file_not_found, "file.not_found", kNotFound)                                      \
  X(file_type_mismatch, "file.type_mismatch", kInvalidArgument)                       \
  X(inbox_not_found, "inbox.not_found", kNotFound)                                    \
  X(cover_page_not_found, "cover_page.not_found", kNotFound)                          \
  X(group_not_found, "group.not_found", kNotFound)                                    \
  X(group_exists, "group.exists", kAlreadyExists)                                     \
  X(webhook_not_found, "webhook.not_found", kNotFound)                                \
  X(user_last_admin, "user.last_admin", kFailedPrecondition)                          \
  X(number_taken, "number.taken", kAlreadyExists)                                     \
  X(fax_call_dropped, "fax.call_dropped", kAborted)                                   \
  X(fax_remote_incompatible, "fax.remote_incompatible", kFailedPrecondition)          \
  X(fax_outcome_unknown, "fax.outcome_unknown", kOutcomeUnknown)                     \
  X(fax_timeout, "fax.timeout", kUnavailable)                                         \
  X(fax_rejected, "fax.rejected", kFailedPrecondition)                                \
  X(fax_no_common_modem, "fax.no_common_modem", kFailedPrecondition)                  \
  X(fax_training_failed, "fax.training_failed", kAborted)                             \
  X(fax_protocol_error, "fax.protocol_error", kAborted)                               \
  X(fax_file_error, "fax.file_error", kInvalidArgument)                               \
  X(fax_transport_failed, "fax.transport_failed", kUnavailable)                       \
  X(fax_malformed_packet, "fax.malformed_packet", kInvalidArgument)                   \
  X(fax_sdp_invalid, "fax.sdp_invalid", kInvalidArgument)                             \
  X(document_unsupported_type, "document.unsupported_type", kInvalidArgument)         \
  X(document_corrupt, "document.corrupt", kInvalidArgument)                           \
  X(document_encrypted, "document.encrypted", kInvalidArgument)                       \
  X(document_too_large, "document.too_large", kInvalidArgument)                       \
  X(document_timeout, "document.timeout", kInvalidArgument)                           \
  X(document_empty, "document.empty", kInvalidArgument)                               \
  X(document_cover_invalid, "document.cover_invalid", kFailedPrecondition)            \
  X(document_missing, "document.missing", kFailedPrecondition)                        \
  X(document_sandbox_lost, "document.sandbox_lost", kUnavailable)                     \
  X(document_office_unavailable, "document.office_unavailable", kUnavailable)        \
  X(mail_invalid_address, "mail.invalid_address", kInvalidArgument)                 \
  X(mail_invalid_message, "mail.invalid_message", kInvalidArgument)                 \
  X(mail_message_too_large, "mail.message_too_large", kInvalidArgument)             \
  X(mail_mailbox_unreachable, "mail.mailbox_unreachable", kUnavailable)             \
  X(mail_mailbox_auth_failed, "mail.mailbox_auth_failed", kFailedPrecondition)      \
  X(mail_mailbox_tls_failed, "mail.mailbox_tls_failed", kFailedPrecondition)        \
  X(mail_mailbox_protocol_unknown, "mail.mailbox_protocol_unknown", kInvalidArgument)\
  X(mail_mailbox_failed, "mail.mailbox_failed", kUnavailable)                       \
  X(mail_mailbox_message_gone, "mail.mailbox_message_gone", kNotFound)              \
  X(ingest_malformed, "ingest.malformed", kInvalidArgument)                         \
  X(ingest_no_sender, "ingest.no_sender", kInvalidArgument)                         \
  X(ingest_no_valid_number, "ingest.no_valid_number", kInvalidArgument)             \
  X(ingest_too_many_recipients, "ingest.too_many_recipients", kInvalidArgument)     \
  X(ingest_too_large, "ingest.too_large", kInvalidArgument)                         \
  X(ingest_too_many_attachments, "ingest.too_many_attachments", kInvalidArgument)   \
  X(ingest_unsupported_attachment, "ingest.unsupported_attachment", kInvalidArgument)\
  X(ingest_encrypted, "ingest.encrypted", kInvalidArgument)                         \
  X(ingest_nothing_to_send, "ingest.nothing_to_send", kInvalidArgument)             \
  X(ingest_automatic_message, "ingest.automatic_message", kFailedPrecondition)      \
  X(ingest_sender_not_authenticated, "ingest.sender_not_authenticated", kPermissionDenied)\
  X(smtp_unreachable, "smtp.unreachable", kUnavailable)                             \
  X(smtp_temporary, "smtp.temporary", kUnavailable)                                 \
  X(smtp_rejected, "smtp.rejected", kFailedPrecondition)                            \
  X(smtp_auth_failed, "smtp.auth_failed", kFailedPrecondition)                      \
  X(smtp_tls_failed, "smtp.tls_failed", kFailedPrecondition)                        \
  X(notification_expired, "notification.expired", kFailedPrecondition)              \
  X(notification_no_recipient, "notification.no_recipient", kFailedPrecondition)    \
  X(notification_not_configured, "notification.not_configured", kUnavailable)       \
  X(notification_waiting, "notification.waiting", kUnavailable)                     \
  X(notification_suppressed, "notification.suppressed", kFailedPrecondition)        \
  X(notification_not_found, "notification.not_found", kNotFound)                    \
  X(template_not_found, "template.not_found", kNotFound)                            \
  X(template_invalid, "template.invalid", kInvalidArgument)                         \
  X(template_render_failed, "template.render_failed", kFailedPrecondition)          \
  X(webhook_unreachable, "webhook.unreachable", kUnavailable)                       \
  X(webhook_timeout, "webhook.timeout", kUnavailable)                               \
  X(webhook_http_error, "webhook.http_error", kUnavailable)                         \
  X(webhook_response_too_large, "webhook.response_too_large", kUnavailable)         \
  X(webhook_address_refused, "webhook.address_refused", kFailedPrecondition)        \
  X(webhook_endpoint_disabled, "webhook.endpoint_disabled", kFailedPrecondition)    \
  X(webhook_retries_exhausted, "webhook.retries_exhausted", kFailedPrecondition)    \
  X(webhook_delivery_not_found, "webhook.delivery_not_found", kNotFound)            \
  X(webhook_tls_failed, "webhook.tls_failed", kUnavailable)                         \
  X(secret_key_missing, "secret.key_missing", kFailedPrecondition)                  \
  X(secret_key_invalid, "secret.key_invalid", kFailedPrecondition)                  \
  X(secret_unreadable, "secret.unreadable", kFailedPrecondition)                    \
  X(link_invalid, "link.invalid", kPermissionDenied)                                \
  X(link_expired, "link.expired", kPermissionDenied)                                \
  X(setting_mail_loop, "setting.mail_loop", kInvalidArgument)

enum class Code {
#define FAXBRIDGE_X(e, name, kind) k_##e,
  FAXBRIDGE_ERROR_CODES(FAXBRIDGE_X)
#undef FAXBRIDGE_X
};

std::string_view code_name(Code code);
ErrorKind code_kind(Code code);
std::string_view kind_name(ErrorKind kind);
// Looks a dotted name up (for codes read back from the DB or a bus message).
bool code_from_name(std::string_view name, Code& out);

// The one retry policy, a function of the kind (Abseil's test):
//   kUnavailable                        the same call may be repeated after a backoff
//                                       (and a new attempt of the job may succeed too);
//   kAborted, kResourceExhausted,       a new attempt of the job may succeed (a call that
//   kInternal                           dropped, a full gateway, a glitch of ours);
//   anything else                       nothing helps until somebody changes something.
enum class RetryScope { kNone, kJob, kCall };
RetryScope retry_scope(ErrorKind kind);
// Whether repeating the failed call (not the job) can help: kUnavailable only.
bool is_retryable_call(Code code);
// Whether another attempt of the job can help (the router's retry_wait, the CDR's flag).
bool is_retryable_job(Code code);

struct Error {
  Code code = Code::k_internal;
  std::string message;  // a sentence a person can act on
  std::vector<std::pair<std::string, std::string>> context;  // small key=value facts

  Error() = default;
  Error(Code c, std::string msg) : code(c), message(std::move(msg)) {}

  Error& with(std::string key, std::string value) {
    context.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  std::string_view name() const { return code_name(code); }
  ErrorKind kind() const { return code_kind(code); }
  // "[db.unavailable] message (host=..., reason=...)"
  std::string to_string() const;
};

}  // namespace faxbridge
