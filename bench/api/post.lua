-- wrk: POST of the JSON in BENCH_BODY with the API token from BENCH_TOKEN
-- (bench/api/main.cpp sets both).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
