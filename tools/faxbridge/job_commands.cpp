// `faxbridge status` and `faxbridge cancel`: a job's state, history and call records,
// and cancelling it from any state before it is sent.
#include <iomanip>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/router/router.hpp"

namespace faxbridge::cli {
int job_status(const std::string& dsn, std::int64_t id, std::ostream& out, std::ostream& err) {
  db::Pool pool(db::PoolSettings{dsn, 1});
  struct View {
    db::Job job;
    std::vector<db::JobEvent> events;
    std::vector<db::AttemptRecord> attempts;
  };
  auto v = pool.transact([&](db::Tx& tx) -> Result<View> {
    auto job = db::jobs::get(tx, id);
    if (!job) return job.error();
    auto events = db::jobs::events(tx, id);
    if (!events) return events.error();
    auto attempts = db::attempts::for_job(tx, id);
    if (!attempts) return attempts.error();
    return View{*job, *events, *attempts};
  });
  if (!v) return fail(err, v.error());
  const auto& j = v->job;
  out << "job " << j.id << "  reference " << j.reference.value_or("-") << "  state " << j.state << "\n"
      << "to " << j.recipient_number << "  pages " << (j.page_count ? std::to_string(*j.page_count) : "-")
      << "  sent " << j.pages_sent << "  attempts " << j.attempts << "\n";
  if (j.error_code) out << "error " << *j.error_code << ": " << j.error_detail.value_or("") << "\n";
  out << "history:\n";
  for (const auto& e : v->events) {
    out << "  " << std::left << std::setw(12) << e.from_state.value_or("") << "-> " << std::setw(15) << e.to_state
        << e.actor << (e.error_code ? "  " + *e.error_code : "") << "\n";
  }
  if (!v->attempts.empty()) out << "calls:\n";
  for (const auto& a : v->attempts) {
    out << "  #" << a.attempt_no << " " << a.started_at << " " << a.gateway_instance << " dialled " << a.dialled_number
        << "  " << (a.outcome ? db::outcome_name(*a.outcome) : std::string_view("in progress")) << "  SIP " << (a.sip_status ? std::to_string(*a.sip_status) : "-")
        << "  T.30 " << (a.t30_code ? std::to_string(*a.t30_code) : "-") << "  pages " << a.pages_sent
        << (a.error_code ? "  " + *a.error_code : "") << "\n";
  }
  return 0;
}

int job_cancel(const std::string& dsn, const std::string& bus_endpoint, std::int64_t id, std::ostream& out,
               std::ostream& err) {
  db::Pool pool(db::PoolSettings{dsn, 1});
  bus::Publisher publisher(bus_endpoint, "faxbridge-cli", "cli", /*metrics=*/nullptr);  // the CLI has no /metrics
  // A gateway in a call hears the cancel over the bus: give the connection a moment.
  for (int i = 0; i < 40 && !publisher.connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto r = router::cancel_job(pool, publisher, id, "cli");
  if (!r) return fail(err, r.error());
  if (r->result == db::routing::CancelResult::kCancelled) {
    out << "Cancelled fax job " << id << " (it was " << r->state << ").\n";
  } else {
    out << "Asked for fax job " << id << " to be cancelled; it is " << r->state
        << " and stops as soon as its holder sees the request.\n";
  }
  return 0;
}

}  // namespace faxbridge::cli
