# pdguard image for the docker-compose `pdguard` service (scheduled scans against the OPA sidecar).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY policies ./policies
RUN pip install --no-cache-dir . && useradd --create-home pdguard && mkdir /data && chown pdguard /data
USER pdguard
ENTRYPOINT ["pdguard"]
CMD ["--help"]
