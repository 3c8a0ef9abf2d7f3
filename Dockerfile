# Lifecycle: one image for every role (web, worker, scheduler, one-off commands).
#   docker build -t lifecycle .
#   docker run --env-file .env lifecycle                       # web (gunicorn)
#   docker run --env-file .env lifecycle python manage.py qcluster
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=lifecycle.settings.production \
    PORT=8000

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p lifecycle accounts onboarding success \
    && pip install '.[production]' \
    && pip uninstall -y lifecycle

COPY . .
# The code runs from /app (gunicorn and manage.py put it on the path).
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.sqlite3 \
       python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 lifecycle

USER lifecycle
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/readyz', timeout=4)"
CMD ["gunicorn", "lifecycle.wsgi", "-c", "gunicorn.conf.py"]
