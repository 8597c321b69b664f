# onboard's everyday commands. `just ready` runs exactly what CI runs.

# Serve on the embedded defaults (http://127.0.0.1:8080, data in ./var).
run:
    cargo run --release

# The whole test suite.
test:
    cargo test --workspace

# What CI runs: install what is missing, fmt check, clippy, tests.
ready:
    bash .ci/run

# Regenerate the checked-in OpenAPI document after changing the API.
openapi:
    UPDATE=1 cargo test -p onboard-api --test api openapi_drift

# Benchmarks against a trivial endpoint of the same server (needs redis-server);
# pass flags through, e.g. `just bench --json` or `just bench --users 10000 --memory-users 1000`.
bench *ARGS:
    cargo run --release -p onboard-bench -- {{ARGS}}
