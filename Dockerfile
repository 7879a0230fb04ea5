# Pantau in a container: the daemon only. docker-compose.yml adds Prometheus, Alertmanager and
# Grafana. Lint: hadolint Dockerfile (tests/test_packaging.py).
#
# ICMP probes: Pantau runs as a non-root user and sends unprivileged ICMP ("ping sockets"),
# which the kernel allows for groups in net.ipv4.ping_group_range. Docker >= 20.10 sets that to
# all groups inside containers; docker-compose.yml also sets it explicitly. On an older engine
# or a runtime that does not, either set the sysctl (`--sysctl net.ipv4.ping_group_range="0
# 2147483647"`) or run as root with `--cap-add NET_RAW` (raw sockets). No other capability is
# needed: drop the rest (`--cap-drop ALL`).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
# tzdata: offices show local time (WIB/WITA/WIT); Debian's tzdata follows the base release's
# security updates, so it is deliberately not pinned to one version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 pantau \
    && useradd --system --uid 10001 --gid pantau --home-dir /data --no-create-home pantau \
    && mkdir -p /config /data \
    && chown pantau:pantau /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels /wheels/pantau-*.whl \
    && rm -rf /wheels

ENV PYTHONUNBUFFERED=1 \
    TZ=Asia/Jakarta
# /config holds pantau.yaml (listen 0.0.0.0:9470, storage /data/pantau.db; see
# config/docker/pantau.yaml); /data holds the SQLite outage ledger.
VOLUME ["/config", "/data"]
USER 10001:10001
WORKDIR /data
EXPOSE 9470
# /healthz answers 200 while the scheduler runs and the ledger is written (503 with the reason
# otherwise: do not restart on it, queued evidence would be lost). Python: the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9470/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["pantau"]
CMD ["run", "--config", "/config/pantau.yaml"]
