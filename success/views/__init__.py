"""Success pages, one module per area (plans, reviews, renewals) plus My work.
Every form posts to a real URL and works without JavaScript; with htmx the
plan's objectives and the pipeline's results swap in place."""
