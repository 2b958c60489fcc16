#include "faxbridge/router/policy.hpp"

#include "faxbridge/db/settings.hpp"

namespace faxbridge::router {
namespace {

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
    case Code::k_call_media_refused:
    case Code::k_auth_send_not_enabled:
    case Code::k_route_no_default:
    case Code::k_route_no_gateway:
      return Category::kPolicy;
    case Code::k_call_busy:
    case Code::k_call_no_answer:
    case Code::k_call_route_failed:
    case Code::k_call_rejected:
    case Code::k_call_interrupted:
    case Code::k_fax_call_dropped:
    case Code::k_fax_transport_failed:
      return Category::kLine;
    default:
      return Category::kInternal;
  }
}

}  // namespace

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
      return retry_or_fail(failure(Code::k_call_busy, failure_sentence(Code::k_call_busy, r.sip_status),
                                   Category::kLine),
                           attempts_done, max_attempts, wait(settings.busy));
    case Outcome::kNoAnswer:
      return retry_or_fail(failure(Code::k_call_no_answer, failure_sentence(Code::k_call_no_answer, r.sip_status),
                                   Category::kLine),
                           attempts_done, max_attempts, wait(settings.no_answer));
    case Outcome::kRejected: {
      const Code code = has_code ? reported : Code::k_call_invalid_number;
      std::string sentence = code == Code::k_call_not_authorised || code == Code::k_call_invalid_number
                                 ? failure_sentence(code, r.sip_status)
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
  Decision d = failure(code, has_code ? failure_sentence(code, r.sip_status)
                                      : "The call ended before the fax was complete, for an unknown reason.",
                       category_of(code));
  if (is_retryable_job(code)) return retry_or_fail(d, attempts_done, max_attempts, wait(settings.failure));
  d.next_state = "failed";
  return d;
}

std::string failure_sentence(Code code, std::optional<int> sip_status) {
  const std::string status = sip_status ? " (SIP " + std::to_string(*sip_status) + ")" : std::string();
  switch (code) {
    case Code::k_call_busy:
      return "The number was busy" + status + ".";
    case Code::k_call_no_answer:
      return "Nobody answered the call" + status + "; check that a fax machine answers this number.";
    case Code::k_call_invalid_number:
      return "The telephone network does not know this number" + status + "; check it and send again.";
    case Code::k_call_not_authorised:
      return "The PBX or carrier refused to place the call" + status +
             " (not authorised); the fax administrator must check the trunk's permissions and its password "
             "(FAXBRIDGE_GATEWAY_REGISTER_PASSWORD).";
    case Code::k_call_route_failed:
      return "Every gateway address of the route failed" + status +
             "; the fax administrator should check that the PBX or voice gateway is up and reachable "
             "(faxbridge routes list shows each address's health).";
    case Code::k_call_cancelled:
      return "The fax was cancelled during the call.";
    case Code::k_call_interrupted:
      return "The gateway holding the call stopped before the fax was sent.";
    case Code::k_call_media_refused:
      return "The far end refused T.38 (fax over IP)" + status +
             " and no other media was allowed for this call. To send such faxes as G.711 audio, the fax "
             "administrator can allow G.711 for outgoing faxes (faxbridge settings set sip.allow_g711_outgoing "
             "true) or set the route's T.38 policy so that G.711 may be used (faxbridge routes list, then faxbridge routes set ID "
             "--t38-policy auto).";
    case Code::k_call_rejected:
      return "The far end refused the call" + status + ".";
    case Code::k_route_no_gateway:
      return "The route for this number has no gateway address, and the default route has none either; the fax "
             "administrator must add the PBX or voice gateway address to the route (faxbridge routes add).";
    case Code::k_fax_call_dropped:
      return "The call ended before the fax was complete (the line dropped).";
    case Code::k_fax_timeout:
      return "The receiving fax machine stopped answering during the transfer.";
    case Code::k_fax_training_failed:
      return "The two fax machines could not agree on a speed; the line may be poor.";
    case Code::k_fax_no_common_modem:
    case Code::k_fax_remote_incompatible:
      return "The receiving fax machine cannot receive this fax (no common modem, size or resolution).";
    case Code::k_fax_rejected:
      return "The receiving fax machine refused the document.";
    default:
      return "The call failed: " + std::string(code_name(code)) + status + " (docs/errors.md says what it means).";
  }
}

RoutingDecision decide_routing(const RoutingFacts& f) {
  RoutingDecision d;
  if (f.cancel_requested) {
    d.next = db::JobState::kCancelled;
    d.error = Error(Code::k_call_cancelled, "The fax was cancelled before it was sent.");
    d.category = Category::kPolicy;
    return d;
  }
  if (f.sender && (!f.sender->enable_send || f.sender->disabled || f.sender->permission_level < db::kPermissionFaxUser)) {
    // The seed: a user not enabled to send gets a message saying so.
    d.next = db::JobState::kFailed;
    d.error = Error(Code::k_auth_send_not_enabled,
                    "You are not enabled to send faxes; ask your fax administrator to enable sending for " +
                        f.sender->username + ".");
    d.category = Category::kPolicy;
    d.tell_sender_refused = !f.sender->email.empty();
    return d;
  }
  if (!f.route_found) {
    d.next = db::JobState::kFailed;
    d.error = Error(Code::k_route_no_default,
                    "No route leads to " + f.recipient +
                        " and no default route is configured; the fax administrator must add the default route (the "
                        "PBX or voice gateway address).");
    d.category = Category::kPolicy;
    d.alert_admin = true;
    return d;
  }
  if (f.gateway_addresses == 0) {
    d.next = db::JobState::kFailed;
    d.error = Error(Code::k_route_no_gateway, failure_sentence(Code::k_route_no_gateway));
    d.category = Category::kPolicy;
    d.alert_admin = true;
    return d;
  }
  return d;
}

InboundDecision decide_inbound(const InboundFacts& f) {
  InboundDecision d;
  const auto receives = [](const db::User& u) { return u.enable_receive && !u.disabled; };
  bool known = f.owner.has_value();
  if (f.owner && receives(*f.owner)) {
    d.recipients.push_back({*f.owner, std::nullopt});
  } else if (!f.owner && f.group_id) {
    known = true;
    for (const auto& u : f.group_members) {
      if (receives(u)) d.recipients.push_back({u, f.group_id});
    }
  }
  if (d.recipients.empty() && (known || !f.refuse_unknown) && f.default_user && !f.default_user->disabled) {
    d.recipients.push_back({*f.default_user, std::nullopt});
  }
  if (f.pages == 0) {
    // A call with no page: ignored, unless the administrator asked to hear about it.
    d.recipients.clear();
    d.tell_owner_failed_call = f.notify_failed_calls && f.owner && !f.owner->email.empty();
    return d;
  }
  if (d.recipients.empty()) {
    d.failed = true;
    d.error = Error(Code::k_inbound_no_recipient,
                    "A fax to " + f.called_number +
                        " reached nobody: no user or group has this number and no default user is set.");
    d.alert_admin = true;
  }
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
