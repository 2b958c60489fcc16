#include "faxbridge/router/policy.hpp"

#include <array>

#include "faxbridge/db/settings.hpp"

namespace faxbridge::router {
namespace {

constexpr std::array<std::pair<Outcome, std::string_view>, 8> kOutcomes{{
    {Outcome::kSent, "sent"},
    {Outcome::kPartiallySent, "partially_sent"},
    {Outcome::kBusy, "busy"},
    {Outcome::kNoAnswer, "no_answer"},
    {Outcome::kRejected, "rejected"},
    {Outcome::kFailed, "failed"},
    {Outcome::kCancelled, "cancelled"},
    {Outcome::kInterrupted, "interrupted"},
}};

Decision retry_or_fail(Decision d, int attempts_done, int max_attempts, std::chrono::seconds wait) {
  d.retryable = true;
  if (attempts_done < max_attempts) {
    d.next_state = "retry_wait";
    d.retry_after = wait;
  } else {
    d.next_state = "failed";
    d.error->message += " All " + std::to_string(max_attempts) + " attempts were used.";
    d.error->with("attempts", std::to_string(attempts_done));
  }
  return d;
}

Decision failure(Code code, std::string sentence, Category category) {
  Decision d;
  d.error = Error(code, std::move(sentence));
  d.category = category;
  return d;
}

// Categories of the codes a gateway or the fax engine reports.
Category category_of(Code code) {
  switch (code) {
    case Code::k_fax_remote_incompatible:
    case Code::k_fax_rejected:
    case Code::k_fax_no_common_modem:
    case Code::k_fax_file_error:
      return Category::kDocument;
    case Code::k_fax_timeout:
    case Code::k_fax_training_failed:
    case Code::k_fax_protocol_error:
    case Code::k_fax_no_pages_confirmed:
      return Category::kProtocol;
    case Code::k_call_not_authorised:
    case Code::k_call_invalid_number:
    case Code::k_auth_send_not_enabled:
      return Category::kPolicy;
    case Code::k_call_busy:
    case Code::k_call_no_answer:
    case Code::k_call_route_failed:
    case Code::k_call_interrupted:
    case Code::k_fax_call_dropped:
    case Code::k_fax_transport_failed:
      return Category::kLine;
    default:
      return Category::kInternal;
  }
}

}  // namespace

Result<Outcome> parse_outcome(const std::string& text) {
  for (const auto& [o, name] : kOutcomes) {
    if (name == text) return o;
  }
  return Error(Code::k_internal, "Unknown call outcome \"" + text + "\".");
}

std::string_view outcome_name(Outcome o) {
  for (const auto& [x, name] : kOutcomes) {
    if (x == o) return name;
  }
  return "failed";
}

std::string_view category_name(Category c) {
  switch (c) {
    case Category::kDocument: return "document";
    case Category::kLine: return "line";
    case Category::kProtocol: return "protocol";
    case Category::kPolicy: return "policy";
    case Category::kInternal: return "internal";
  }
  return "internal";
}

RetrySettings RetrySettings::from(const db::SettingsSnapshot& s) {
  RetrySettings r;
  r.max_attempts = static_cast<int>(s.get_int("fax.max_attempts"));
  r.busy = std::chrono::seconds(s.get_int("fax.retry_busy_s"));
  r.no_answer = std::chrono::seconds(s.get_int("fax.retry_no_answer_s"));
  r.failure = std::chrono::seconds(s.get_int("fax.retry_failure_s"));
  return r;
}

bool may_have_been_delivered(const std::optional<std::string>& phase) {
  // T.30 phases: A call set-up, B pre-message, C message (pages), D post-message, E release.
  return phase && !phase->empty() && (*phase)[0] >= 'C';
}

Decision decide(const CallReport& r, int attempts_done, const RetrySettings& settings, const JobOverrides& o) {
  const int max_attempts = o.max_attempts.value_or(settings.max_attempts);
  auto wait = [&](std::chrono::seconds cause_default) {
    return o.retry_interval_s ? std::chrono::seconds(*o.retry_interval_s) : cause_default;
  };
  Code reported{};
  const bool has_code = r.error_code && code_from_name(*r.error_code, reported);

  switch (r.outcome) {
    case Outcome::kSent: {
      if (r.pages_sent <= 0) {
        // Never "sent" with zero confirmed pages: something is wrong with the call.
        auto d = failure(Code::k_fax_no_pages_confirmed,
                         "The call ended without the receiver confirming any page.", Category::kProtocol);
        return retry_or_fail(d, attempts_done, max_attempts, wait(settings.failure));
      }
      if (r.page_count && r.pages_sent < *r.page_count) {
        Decision d = failure(Code::k_fax_partially_sent,
                             "The receiver confirmed " + std::to_string(r.pages_sent) + " of " +
                                 std::to_string(*r.page_count) + " pages.",
                             Category::kLine);
        d.next_state = "partially_sent";
        return d;
      }
      Decision d;
      d.next_state = "sent";
      return d;
    }
    case Outcome::kPartiallySent: {
      Decision d = failure(Code::k_fax_partially_sent,
                           "The receiver confirmed " + std::to_string(r.pages_sent) +
                               (r.page_count ? " of " + std::to_string(*r.page_count) : std::string()) +
                               " pages; the fax is not resent, so no page arrives twice.",
                           Category::kLine);
      d.next_state = r.pages_sent > 0 ? "partially_sent" : "failed";
      return d;
    }
    case Outcome::kBusy:
      return retry_or_fail(failure(Code::k_call_busy, "The number was busy.", Category::kLine), attempts_done,
                           max_attempts, wait(settings.busy));
    case Outcome::kNoAnswer:
      return retry_or_fail(failure(Code::k_call_no_answer, "Nobody answered the call.", Category::kLine),
                           attempts_done, max_attempts, wait(settings.no_answer));
    case Outcome::kRejected: {
      const Code code = has_code ? reported : Code::k_call_invalid_number;
      std::string sentence =
          code == Code::k_call_not_authorised
              ? "The telephone network refused to place the call (not authorised); ask the administrator."
          : code == Code::k_call_invalid_number
              ? "The telephone network does not know this number; check it and send again."
              : "The receiving fax machine refused the document.";
      Decision d = failure(code, sentence, category_of(code));
      d.next_state = "failed";
      return d;
    }
    case Outcome::kCancelled: {
      Decision d = failure(Code::k_call_cancelled, "The fax was cancelled during the call.", Category::kPolicy);
      d.next_state = "cancelled";
      return d;
    }
    case Outcome::kInterrupted: {
      if (may_have_been_delivered(r.phase_reached) || r.pages_sent > 0) {
        Decision d = failure(Code::k_fax_outcome_unknown,
                             "The gateway stopped while pages were being sent; the fax may have arrived, so it "
                             "is not resent automatically. Check with the recipient.",
                             Category::kInternal);
        d.next_state = "failed";
        return d;
      }
      return retry_or_fail(failure(Code::k_call_interrupted,
                                   "The gateway stopped before the fax was sent.", Category::kLine),
                           attempts_done, max_attempts, wait(settings.failure));
    }
    case Outcome::kFailed:
      break;
  }
  // A failure: the reported code decides whether another attempt can help.
  const Code code = has_code ? reported : Code::k_fax_call_dropped;
  const ErrorKind kind = code_kind(code);
  Decision d = failure(code, has_code ? "The call failed (" + std::string(code_name(code)) + ")."
                                      : "The call failed for an unknown reason.",
                       category_of(code));
  if (kind == ErrorKind::kAborted || kind == ErrorKind::kUnavailable || kind == ErrorKind::kInternal) {
    return retry_or_fail(d, attempts_done, max_attempts, wait(settings.failure));
  }
  d.next_state = "failed";
  return d;
}

DialSettings DialSettings::from(const db::SettingsSnapshot& s) {
  DialSettings d;
  d.global_prefix = s.get_string("routing.global_prefix");
  d.network_type = s.get_string("routing.network_type");
  d.internal_max_digits = static_cast<std::size_t>(s.get_int("routing.internal_max_digits"));
  d.plan.country_code = s.get_string("routing.country_code");
  d.plan.international_prefix = s.get_string("routing.international_prefix");
  d.plan.national_prefix = s.get_string("routing.national_prefix");
  return d;
}

std::string dial_number(const PhoneNumber& number, const DialSettings& s) {
  std::string digits = dialable(number, s.plan);
  const bool internal = s.network_type == "internal_and_external" && number.kind == NumberKind::kLocal &&
                        digits.size() <= s.internal_max_digits;
  return internal ? digits : s.global_prefix + digits;
}

}  // namespace faxbridge::router
