#include "faxbridge/fax/loopback.hpp"

#include <charconv>
#include <cstdio>

namespace faxbridge::fax {

Result<LoopbackCall> make_loopback_call(const SessionOptions& caller, const SessionOptions& answerer,
                                        const LoopbackOptions& options) {
  LinkPair links;
  if (options.udp) {
    auto p = make_udp_link_pair(options.caller_to_answerer, options.answerer_to_caller);
    if (!p) return std::move(p).error();
    links = std::move(p).value();
  } else {
    links = make_memory_link_pair(options.caller_to_answerer, options.answerer_to_caller);
  }
  auto channel_options = [&](const SessionOptions& s) {
    ChannelOptions o;
    o.session = s;
    o.media = options.media;
    o.t38 = options.t38;
    o.udptl = options.udptl;
    o.jitter_delay_ms = options.jitter_delay_ms;
    o.audio_redundancy = options.audio_redundancy;
    o.max_duration = options.max_duration;
    return o;
  };
  SessionOptions c = caller, a = answerer;
  c.calling_party = true;
  a.calling_party = false;
  auto co = channel_options(c);
  auto ao = channel_options(a);
  co.red_receive_payload_type = options.caller_red_type;
  co.red_payload_type = static_cast<std::uint8_t>(options.answerer_red_type);
  ao.red_receive_payload_type = options.answerer_red_type;
  ao.red_payload_type = static_cast<std::uint8_t>(options.caller_red_type);
  auto cc = FaxChannel::create(co, std::move(links.first));
  if (!cc) return std::move(cc).error();
  auto ac = FaxChannel::create(ao, std::move(links.second));
  if (!ac) return std::move(ac).error();
  if (options.signal_hangup) {
    (*cc)->set_hangup_peer(*ac);
    (*ac)->set_hangup_peer(*cc);
  }
  return LoopbackCall{*cc, *ac};
}

Result<LoopbackFaxReport> run_loopback_fax(const LoopbackFaxRequest& r) {
  SessionOptions tx;
  tx.direction = Direction::kSend;
  tx.tiff_path = r.in_tiff;
  tx.local_ident = "faxbridge-tx";
  tx.header_info = r.header_info;
  tx.ecm = r.ecm;
  tx.call_id = "loopback-tx";
  tx.debug_log = r.debug_log;
  SessionOptions rx;
  rx.direction = Direction::kReceive;
  rx.tiff_path = r.out_tiff;
  rx.local_ident = "faxbridge-rx";
  rx.ecm = r.ecm;
  rx.call_id = "loopback-rx";
  rx.debug_log = r.debug_log;
  auto call = make_loopback_call(tx, rx, r.line);
  if (!call) return std::move(call).error();
  auto rt = ChannelRuntime::create(RuntimeOptions{1, r.pace});
  if (!rt) return std::move(rt).error();
  auto start = std::chrono::steady_clock::now();
  if (auto a = (*rt)->add({call->caller, call->answerer}); !a) return std::move(a).error();
  (*rt)->wait_idle();
  LoopbackFaxReport rep;
  rep.wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  rep.sender = call->caller->result();
  rep.receiver = call->answerer->result();
  rep.sender_stats = call->caller->stats();
  rep.receiver_stats = call->answerer->stats();
  return rep;
}

namespace {

std::string describe(const char* who, const FaxResult& r) {
  char line[512];
  std::snprintf(line, sizeof line,
                "%-8s %s  code=%s t30=%d (%s)  pages=%d  rate=%d  ecm=%s  resolution=%s  remote=\"%s\"  "
                "media_time=%.1fs%s",
                who, r.success ? "OK    " : "FAILED", r.success ? "ok" : std::string(r.error->name()).c_str(),
                r.t30_code, r.t30_text.c_str(), r.pages, r.bit_rate, r.ecm_used ? "yes" : "no",
                std::string(resolution_name(r.resolution)).c_str(), r.remote_ident.c_str(),
                static_cast<double>(r.duration.count()) / 1000.0,
                r.success ? "" : (r.retryable ? "  retryable" : "  not retryable"));
  return line;
}

}  // namespace

std::string format_loopback_report(const LoopbackFaxReport& rep) {
  std::string s = describe("sender", rep.sender) + "\n" + describe("receiver", rep.receiver) + "\n";
  char line[320];
  std::snprintf(line, sizeof line,
                "line     ifp=%llu/%llu datagrams sent=%llu/%llu dropped=%llu/%llu recovered=%llu/%llu gaps=%llu/%llu  wall=%.2fs\n",
                static_cast<unsigned long long>(rep.sender_stats.ifp_sent),
                static_cast<unsigned long long>(rep.receiver_stats.ifp_sent),
                static_cast<unsigned long long>(rep.sender_stats.link.sent),
                static_cast<unsigned long long>(rep.receiver_stats.link.sent),
                static_cast<unsigned long long>(rep.sender_stats.link.dropped),
                static_cast<unsigned long long>(rep.receiver_stats.link.dropped),
                // UDPTL redundancy or FEC for T.38, RFC 2198 copies for G.711.
                static_cast<unsigned long long>(rep.sender_stats.udptl.recovered_redundancy +
                                                rep.sender_stats.udptl.recovered_fec + rep.sender_stats.rtp_recovered),
                static_cast<unsigned long long>(rep.receiver_stats.udptl.recovered_redundancy +
                                                rep.receiver_stats.udptl.recovered_fec +
                                                rep.receiver_stats.rtp_recovered),
                static_cast<unsigned long long>(rep.sender_stats.udptl.lost + rep.sender_stats.jitter_missing),
                static_cast<unsigned long long>(rep.receiver_stats.udptl.lost + rep.receiver_stats.jitter_missing),
                static_cast<double>(rep.wall.count()) / 1000.0);
  s += line;
  return s;
}

Result<double> parse_loss(std::string_view text) {
  bool percent = !text.empty() && text.back() == '%';
  if (percent) text.remove_suffix(1);
  double v = -1;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return Error(Code::k_config_invalid, "The loss must look like 5% or 0.05.").with("value", std::string(text));
  }
  if (percent) v /= 100.0;
  if (v < 0 || v > 1) {
    return Error(Code::k_config_invalid, "The loss must be between 0% and 100%.").with("value", std::string(text));
  }
  return v;
}

}  // namespace faxbridge::fax
