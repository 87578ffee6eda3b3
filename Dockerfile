# One image for the worker and the API; the command picks which.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Every dependency, pip and the build backend included, from the runtime lock: pinned, and checked
# against its sha256 (scripts/lock.sh writes it). Its own layer, so a code change reuses it.
COPY requirements/runtime.lock requirements/runtime.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY domain domain
COPY contract contract
COPY workflows workflows
COPY activities activities
COPY edge edge
COPY worker.py starter.py ./
COPY policies policies
COPY config config
COPY api api
COPY cli cli
# The project alone: its dependencies came from the lock, its build backend too (no isolation).
RUN pip install --no-cache-dir --no-deps --no-build-isolation .
# Bytecode for the workflow modules, which the sandbox runs afresh for every case it loads
# (PYTHONDONTWRITEBYTECODE stops Python writing it, and /app is read-only to the worker).
RUN python -m compileall -q workflows
RUN useradd --create-home cse && mkdir -p /app/data && chown cse /app/data
USER cse
CMD ["python", "worker.py"]
