# pdguard image for the docker-compose `bundle` job and `pdguard` service (scans against the OPA sidecar).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY policies ./policies
# /data: the inventory store; /bundle: where the compose `bundle` job writes the OPA bundle (named
# volumes take these directories' owner, so the unprivileged user can write there).
RUN pip install --no-cache-dir . && useradd --create-home pdguard && mkdir /data /bundle && chown pdguard /data /bundle
USER pdguard
ENTRYPOINT ["pdguard"]
CMD ["--help"]
