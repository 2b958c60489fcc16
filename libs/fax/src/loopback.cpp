#include "faxbridge/fax/loopback.hpp"

namespace faxbridge::fax {

Result<LoopbackCall> make_loopback_call(const SessionOptions& caller, const SessionOptions& answerer,
                                        const LoopbackOptions& options,
                                        std::optional<std::uint64_t> answerer_hangup_at_tick) {
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
    o.max_duration = options.max_duration;
    return o;
  };
  SessionOptions c = caller, a = answerer;
  c.calling_party = true;
  a.calling_party = false;
  auto co = channel_options(c);
  auto ao = channel_options(a);
  ao.hangup_at_tick = answerer_hangup_at_tick;
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
  SessionOptions rx;
  rx.direction = Direction::kReceive;
  rx.tiff_path = r.out_tiff;
  rx.local_ident = "faxbridge-rx";
  rx.ecm = r.ecm;
  rx.call_id = "loopback-rx";
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

}  // namespace faxbridge::fax
