// faxbridge: the operator's command-line tool.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "fax_commands.hpp"
#include "faxbridge/core/config.hpp"

int main(int argc, char** argv) try {
  using namespace faxbridge;
  CLI::App app{"Faxbridge operator tool. The database comes from --dsn or FAXBRIDGE_DB_DSN; `send` and `faxes` "
               "talk to the REST API at --api-url or FAXBRIDGE_API_URL (default " +
               std::string(cli::kDefaultApiUrl) + ") with --token or FAXBRIDGE_API_TOKEN."};
  app.require_subcommand(1);
  app.fallthrough();  // --api-url, --token, --dsn may follow the subcommand too
  std::optional<std::string> api_url_flag, token_flag;
  app.add_option("--api-url", api_url_flag, "REST API base URL (default: $FAXBRIDGE_API_URL, else " +
                                               std::string(cli::kDefaultApiUrl) + ")");
  app.add_option("--token", token_flag, "API token (default: $FAXBRIDGE_API_TOKEN; make one with `tokens create`)");
  std::string dsn = config::process_env()("FAXBRIDGE_DB_DSN").value_or("");
  app.add_option("--dsn", dsn, "libpq connection string (default: $FAXBRIDGE_DB_DSN)");

  int status = 0;
  app.add_subcommand("version", "Print the version and schema version")->callback([&] { status = cli::version(std::cout); });

  int wait_seconds = 0;
  auto* migrate = app.add_subcommand("migrate", "Apply missing database migrations");
  migrate->add_option("--wait", wait_seconds, "Seconds to wait for the database to come up")->check(CLI::Range(0, 3600));

  auto* users = app.add_subcommand("users", "Manage users")->require_subcommand(1);
  cli::NewUserArgs nu;
  bool admin = false, no_send = false, no_receive = false, password_stdin = false;
  auto* add = users->add_subcommand("add", "Add a user (e.g. the first administrator)");
  add->add_option("username", nu.username, "Login name")->required();
  add->add_option("--name", nu.display_name, "Full name");
  add->add_option("--email", nu.email, "Mail address (also the fax-to-email address unless given)");
  add->add_option("--fax-number", nu.fax_number, "The user's fax number (DID)");
  add->add_option("--phone", nu.phone_number, "Phone number, shown on cover pages");
  add->add_option("--language", nu.language, "Language code for cover pages and mails");
  add->add_option("--cover", nu.cover_page_name, "Cover page name (default cover when empty)");
  int permission_level = 2;
  auto* permission_option =
      add->add_option("--permission", permission_level,
                      "0 none, 2 fax user, 10 fax administrator (default: inherit the default level)")
          ->check(CLI::Range(0, 10));
  add->add_flag("--admin", admin, "Shorthand for --permission 10");
  add->add_flag("--no-send", no_send, "May not send faxes");
  add->add_flag("--no-receive", no_receive, "Received faxes go to the default user");
  add->add_flag("--fax-to-email", nu.enable_fax_to_email, "Mail received faxes");
  add->add_option("--fax-to-email-address", nu.fax_to_email_address, "Where received faxes are mailed");
  add->add_flag("--password-stdin", password_stdin, "Read the web password from the first line of stdin");
  bool json = false;
  auto* list = users->add_subcommand("list", "List users");
  list->add_flag("--json", json, "Print JSON");

  auto* tokens = app.add_subcommand("tokens", "API tokens")->require_subcommand(1);
  std::string token_user, token_name = "bootstrap";
  auto* tokens_create = tokens->add_subcommand("create", "Create an API token for a user and print it (once)");
  tokens_create->add_option("username", token_user, "The user the token acts as")->required();
  tokens_create->add_option("--name", token_name, "What the token is for (default: bootstrap)");

  std::int64_t job_id = 0;
  auto* status_cmd = app.add_subcommand("status", "Show a fax job: state, history, call records");
  status_cmd->add_option("job", job_id, "Job id")->required();
  auto* cancel_cmd = app.add_subcommand("cancel", "Cancel a fax job that is not sent yet");
  cancel_cmd->add_option("job", job_id, "Job id")->required();
  std::string bus = config::process_env()("FAXBRIDGE_BUS_PUBLISH_ENDPOINT").value_or("tcp://127.0.0.1:5570");
  cancel_cmd->add_option("--bus", bus, "Bus endpoint to tell a gateway (default: $FAXBRIDGE_BUS_PUBLISH_ENDPOINT)");

  auto* routes = app.add_subcommand("routes", "Outbound routes and their gateways' health")->require_subcommand(1);
  auto* routes_list = routes->add_subcommand("list", "List routes, addresses in dialling order, with health");
  cli::NewRouteArgs nr;
  auto* routes_add = routes->add_subcommand("add", "Add a route: --default or --prefix, then its addresses");
  routes_add->add_option("addresses", nr.addresses, "Gateway addresses (host[:port]) in dialling order")->required();
  auto* default_flag = routes_add->add_flag("--default", nr.is_default, "The default route (numbers no prefix matches)");
  routes_add->add_option("--prefix", nr.prefix, "Numbers starting with this prefix")->excludes(default_flag);
  routes_add->add_option("--description", nr.description, "A note for administrators");
  routes_add->add_flag("--if-none", nr.only_if_none, "Add nothing when any route exists (first-run seeding)");
  routes_add->add_option("--t38-policy", nr.t38_policy,
                         "auto (T.38, or G.711 first when \"Allow G.711 for outgoing faxes\" is on), require "
                         "(T.38 only) or off (G.711 only); default auto");
  std::int64_t route_id = 0;
  std::string t38_policy;
  auto* routes_set = routes->add_subcommand("set", "Change a route (its id from `routes list`)");
  routes_set->add_option("id", route_id, "Route id")->required();
  auto* t38_option = routes_set->add_option("--t38-policy", t38_policy, "auto, require or off (as for routes add)");

  auto* settings = app.add_subcommand("settings", "Administrator settings (typed catalog)")->require_subcommand(1);
  auto* settings_list = settings->add_subcommand("list", "List every setting: value, type, default or not, meaning");
  std::string setting_key, setting_value;
  auto* settings_get = settings->add_subcommand("get", "Print one setting's value");
  settings_get->add_option("key", setting_key, "Setting key, e.g. sip.allow_g711_outgoing")->required();
  auto* settings_set = settings->add_subcommand("set", "Change a setting: true/false, a number or text, as its type wants");
  settings_set->add_option("key", setting_key, "Setting key, e.g. sip.allow_g711_outgoing")->required();
  settings_set->add_option("value", setting_value, "The new value, e.g. true")->required();

  cli::SendArgs sa;
  auto* send = app.add_subcommand(
      "send",
      "Send documents as a fax through the API: one fax per recipient. Exit status: 0 done (with --wait: all sent), "
      "1 with --wait: a fax was not sent, 2 bad command line, 3 the API refused (error: detail (code)), 4 the API "
      "could not be reached");
  send->add_option("files", sa.files, "Documents, in order (PDF, TIFF, DOCX, ODT, ...)")->required();
  send->add_option("--to", sa.to, "Fax number(s): --to A,B or --to A --to B (a broadcast: one fax each)")
      ->required()
      ->allow_extra_args(false);  // `--to A doc.pdf`: doc.pdf is a file, not a number
  send->add_option("--cover", sa.cover, "Cover page name (e.g. en_default)");
  send->add_option("--subject", sa.subject, "Subject (on the cover page)");
  send->add_option("--note", sa.note, "Note (on the cover page)");
  send->add_flag("--wait", sa.wait, "Show a live status line until every fax is final; exit 0 only when all are sent");

  auto* faxes = app.add_subcommand("faxes", "Faxes sent through the API: list, show, cancel")->require_subcommand(1);
  cli::ListArgs la;
  auto* faxes_list = faxes->add_subcommand("list", "List faxes, newest first: id, reference, status, to, pages, created");
  faxes_list->add_option("--status", la.status, "Only faxes in this status (e.g. sent, failed, queued)");
  faxes_list->add_option("--limit", la.limit, "How many (default 20)")->check(CLI::Range(1, 200));
  faxes_list->add_option("--cursor", la.cursor, "Continue after an earlier page (printed as `more:`)");
  faxes_list->add_flag("--json", la.json, "Print the API's JSON");
  std::int64_t fax_id = 0;
  bool show_json = false;
  auto* faxes_show = faxes->add_subcommand("show", "Show a fax with its attempts (call records)");
  faxes_show->add_option("id", fax_id, "Fax id (as `send` and `faxes list` print it)")->required();
  faxes_show->add_flag("--json", show_json, "Print the API's JSON");
  auto* faxes_cancel = faxes->add_subcommand("cancel", "Cancel a fax that is not final yet");
  faxes_cancel->add_option("id", fax_id, "Fax id")->required();

  cli::ConvertArgs ca;
  bool no_office = false, no_sandbox = false;
  auto* conv = app.add_subcommand("convert", "Convert documents to fax pages (TIFF Class F, G4), as the converter does");
  conv->add_option("inputs", ca.inputs, "Documents, in order")->required()->check(CLI::ExistingFile);
  conv->add_option("-o,--output", ca.output, "Output .tif (or .pdf)")->required();
  conv->add_option("--cover", ca.cover, "Cover page first: default, urgent, confidential or an .svg template");
  conv->add_option("--field", ca.fields, "Cover/header field key=value (sender_name, subject, note, reference, tsid, ...)");
  conv->add_flag("--standard", ca.standard, "Standard resolution (204x98) instead of fine (204x196)");
  conv->add_flag("--header", ca.header, "Stamp the page header band (reference, date, TSID, recipient, page n/m)");
  conv->add_flag("--no-office", no_office, "Refuse office documents instead of starting LibreOffice");
  conv->add_flag("--no-sandbox", no_sandbox, "Decode in this process (debugging only)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; any other parse error is a bad command line (2).
    return app.exit(e) == 0 ? 0 : cli::kExitUsage;
  }
  if (send->parsed() || faxes_list->parsed() || faxes_show->parsed() || faxes_cancel->parsed()) {
    const auto api = cli::resolve_api_args(api_url_flag, token_flag, config::process_env());
    if (send->parsed()) return cli::fax_send(api, sa, std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1);
    if (faxes_list->parsed()) return cli::faxes_list(api, la, std::cout, std::cerr);
    if (faxes_show->parsed()) return cli::faxes_show(api, fax_id, show_json, std::cout, std::cerr);
    return cli::faxes_cancel(api, fax_id, std::cout, std::cerr);
  }
  if (conv->parsed()) {
    ca.office = !no_office;
    ca.sandbox = !no_sandbox;
    return cli::convert(ca, std::cout, std::cerr);
  }
  if (migrate->parsed() || add->parsed() || list->parsed() || tokens_create->parsed() || status_cmd->parsed() ||
      cancel_cmd->parsed() || routes_list->parsed() || routes_add->parsed() || routes_set->parsed() ||
      settings_list->parsed() || settings_get->parsed() || settings_set->parsed()) {
    if (dsn.empty()) {
      return cli::fail(std::cerr, Error(Code::k_config_invalid, "No database given; set FAXBRIDGE_DB_DSN or pass --dsn."));
    }
  }
  if (migrate->parsed()) status = cli::migrate(dsn, wait_seconds, std::cout, std::cerr);
  if (add->parsed()) {
    if (*permission_option) nu.permission_level = permission_level;
    if (admin) nu.permission_level = 10;
    nu.enable_send = !no_send;
    nu.enable_receive = !no_receive;
    if (password_stdin) {
      std::string line;
      std::getline(std::cin, line);
      nu.password = line;
    }
    status = cli::users_add(dsn, nu, std::cout, std::cerr);
  }
  if (list->parsed()) status = cli::users_list(dsn, json, std::cout, std::cerr);
  if (tokens_create->parsed()) status = cli::tokens_create(dsn, token_user, token_name, std::cout, std::cerr);
  if (status_cmd->parsed()) status = cli::job_status(dsn, job_id, std::cout, std::cerr);
  if (cancel_cmd->parsed()) status = cli::job_cancel(dsn, bus, job_id, std::cout, std::cerr);
  if (routes_list->parsed()) status = cli::routes_list(dsn, std::cout, std::cerr);
  if (routes_add->parsed()) {
    if (!nr.is_default && nr.prefix.empty()) {
      return cli::fail(std::cerr, Error(Code::k_config_invalid, "Give --default or --prefix for the route."));
    }
    status = cli::routes_add(dsn, nr, std::cout, std::cerr);
  }
  if (routes_set->parsed()) {
    cli::RouteChanges changes;
    if (*t38_option) changes.t38_policy = t38_policy;
    status = cli::routes_set(dsn, route_id, changes, std::cout, std::cerr);
  }
  if (settings_list->parsed()) status = cli::settings_list(dsn, std::cout, std::cerr);
  if (settings_get->parsed()) status = cli::settings_get(dsn, setting_key, std::cout, std::cerr);
  if (settings_set->parsed()) status = cli::settings_set(dsn, setting_key, setting_value, std::cout, std::cerr);
  return status;
} catch (const std::exception& e) {
  return faxbridge::cli::fail(std::cerr, faxbridge::Error(faxbridge::Code::k_internal, e.what()));
}
