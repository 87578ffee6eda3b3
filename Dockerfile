# One image for the worker and the API; the command picks which.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY edge edge
COPY worker.py starter.py ./
COPY policies policies
COPY config config
COPY api api
COPY cli cli
RUN pip install --no-cache-dir .
RUN useradd --create-home cse && mkdir -p /app/data && chown cse /app/data
USER cse
CMD ["python", "worker.py"]
