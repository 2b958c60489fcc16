-- wrk: GET with the API token from BENCH_TOKEN (bench/api/main.cpp sets it).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
