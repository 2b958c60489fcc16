#pragma once
// Internal to libs/db: the pieces of SQL and logging that every statement moving jobs
// shares, so that a claim of many rows records its events exactly as transition() does.
#include <optional>
#include <string>
#include <string_view>

#include "faxbridge/db/states.hpp"
#include "pqxx_support.hpp"

namespace faxbridge::db::states_sql {

// Throws std::logic_error when `from -> to` is not in the machine's table: statements
// are built once from constants, so this fires on the first use of a wrong one (a bug).
void require_edge(const StateMachine& machine, std::string_view from, std::string_view to);

// "INSERT INTO job_events (...) SELECT <id>, <from>, <to>, <actor>, <code>, <detail>
// FROM <moved>": the event rows of the jobs a data-modifying CTE named `moved` returned.
// The expressions are SQL over `moved`'s columns and the statement's parameters.
std::string job_events_insert(std::string_view moved, std::string_view id_column, std::string_view from_expr,
                              std::string_view to_expr, std::string_view actor_expr, std::string_view code_expr = "NULL",
                              std::string_view detail_expr = "''");

// A state name as an SQL literal (names come from the tables, never from input).
inline std::string quoted(std::string_view state) { return "'" + std::string(state) + "'"; }

// The `job.state` log line of one move, written once the transaction has committed.
void log_job_state_after_commit(Tx& tx, std::int64_t job, std::optional<std::string> reference,
                                std::string_view from, std::string_view to, std::string actor,
                                std::optional<std::string> code = std::nullopt);

}  // namespace faxbridge::db::states_sql
