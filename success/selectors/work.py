"""My work: everything due for one person, in sections by when it is due (overdue,
the next 7 days, later, undated), each read a page at a time.

Tasks and action items assigned to them, playbook steps (tasks too), reviews they
prepare and open renewals on the accounts they own. A CSM's book is a thousand items
and more (1,396 for csm1 in the demo), so the page asks for some sections' first
rows and shows every section's count (docs/performance.md).

One statement whatever is asked, reading only what it returns: each wanted
section's tasks in due order from an index, as far as the page goes (LIMIT), and
the handful of reviews and renewals; the counts from the same index. It is written
out rather than built by the ORM (whose query building cost more than the page's
rows) in what PostgreSQL and SQLite both take: window functions, UNION ALL, CASE.
Rows are read as values, not models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from django.db import connection

from accounts.formats import money_display
from accounts.links import url_for_ids
from accounts.models import Account, ForecastCategory, User
from accounts.plain_sql import execute_prepared

from ..models import BusinessReview, Objective, Renewal, ReviewKind, SuccessTask
from ..playbooks.models import Playbook, PlaybookRun, PlaybookRunStep, PlaybookStep


@dataclass(frozen=True, slots=True)
class WorkItem:
    kind: str
    title: str
    account_id: int
    account_name: str
    account_url: str
    due: date | None
    url: str
    detail: str
    overdue: bool
    task_id: int | None = None

    @property
    def kind_label(self) -> str:
        return WORK_KINDS[self.kind]


# The order of kinds among items due the same day (alphabetical, as the list has
# always had it); the statement sorts by the kind's number here.
KINDS = ("action", "playbook", "renewal", "review", "task")


WORK_KINDS = {
    "task": "Task",
    "action": "Action item",
    "review": "Review",
    "renewal": "Renewal",
    "playbook": "Playbook step",
}

# The sections in page order; their numbers are what the statement computes.
SECTIONS = ("overdue", "week", "later", "undated")
SECTION_TITLES = {
    "overdue": "Overdue",
    "week": "Next 7 days",
    "later": "Later",
    "undated": "No date",
}
WEEK_END = timedelta(days=8)  # "week": today and the 7 days after it
FIRST_VIEW = ("overdue", "week")  # what the page opens on: what is due now
PREVIEW = 25  # rows per section on the first view
PER_PAGE = 100  # rows per page of one section


@dataclass(frozen=True, slots=True)
class WorkSection:
    key: str
    title: str
    count: int  # every item in the section, not only those shown
    items: list[WorkItem]  # the rows asked for, in order


_REVIEW_KINDS = dict(ReviewKind.choices)
_FORECASTS = dict(ForecastCategory.choices)


# A section's bounds on the due date, as SQL on the task's `t.due_date`.
_TASK_SECTION = (
    "t.due_date < %(today)s",
    "t.due_date >= %(today)s AND t.due_date < %(week_end)s",
    "t.due_date >= %(week_end)s",
    "t.due_date IS NULL",
)
_SECTION_OF = """CASE WHEN {due} IS NULL THEN 3 WHEN {due} < %(today)s THEN 0
                WHEN {due} < %(week_end)s THEN 1 ELSE 2 END"""


@cache
def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    models = {
        "task": SuccessTask,
        "review": BusinessReview,
        "renewal": Renewal,
        "account": Account,
        "objective": Objective,
        "run_step": PlaybookRunStep,
        "run": PlaybookRun,
        "step": PlaybookStep,
        "playbook": Playbook,
    }
    return {k: q(m._meta.db_table) for k, m in models.items()}


@cache
def _statement(sections: tuple[int, ...], limited: bool) -> str:
    """The statement for the rows of `sections` (numbers) from `%(first)s`, up to
    `%(last)s` when `limited`; built once per shape and process.

    A wanted section's tasks are read in due order from the index of a person's
    open tasks (which holds the review, so no task row is read), with a lookup of
    the playbook step (a task with one is a playbook step: its kind orders a day's
    items), and only as far as the page goes. Reviews and renewals, a handful per
    person, are read whole. The counts come from the same index, and drive the
    result: each section with items comes back with its count, joined to its rows
    if any are asked for. Ties keep one order across pages: due, kind, then id.
    Each task read is a subquery because SQLite takes no ORDER BY or LIMIT on a
    member of a UNION; the last LIMIT tells PostgreSQL how few rows get the joins
    (it cannot tell from the row numbers, and hashes whole tables otherwise)."""
    t = _tables()
    task_kind = f"""CASE WHEN s.id IS NOT NULL THEN {KINDS.index("playbook")}
                    WHEN t.review_id IS NOT NULL THEN {KINDS.index("action")}
                    ELSE {KINDS.index("task")} END"""
    task_reads = "".join(
        f"""
    SELECT * FROM (
        SELECT 'task' AS source, {number} AS section, t.id AS pk, t.due_date AS due,
               {task_kind} AS kind, CAST(NULL AS BIGINT) AS account_id
          FROM {t["task"]} t LEFT JOIN {t["run_step"]} s ON s.task_id = t.id
         WHERE t.assignee_user_id = %(user)s AND t.done_at IS NULL
           AND {_TASK_SECTION[number]}
         ORDER BY due, kind, pk{" LIMIT %(last)s" if limited else ""}
    ) AS tasks_{number}
    UNION ALL"""
        for number in sections
    )
    wanted = ", ".join(str(number) for number in sections) or "NULL"  # NULL: none
    rows = "n > %(first)s AND n <= %(last)s" if limited else "n > %(first)s"
    most = f" LIMIT {len(sections)} * (%(last)s - %(first)s)" if limited else ""
    return f"""
WITH others AS (
    SELECT 'review' AS source, r.id AS pk, r.scheduled_for AS due,
           {KINDS.index("review")} AS kind, r.account_id
      FROM {t["review"]} r
     WHERE r.owner_id = %(user)s AND r.status = %(review_scheduled)s
    UNION ALL
    SELECT 'renewal', n.id, n.renewal_date, {KINDS.index("renewal")}, n.account_id
      FROM {t["renewal"]} n JOIN {t["account"]} a ON a.id = n.account_id
     WHERE a.owner_id = %(user)s AND n.status = %(renewal_open)s
       AND a.status <> %(account_archived)s
), counts AS (
    SELECT section, SUM(items) AS items FROM (
        SELECT {_SECTION_OF.format(due="t.due_date")} AS section, COUNT(*) AS items
          FROM {t["task"]} t
         WHERE t.assignee_user_id = %(user)s AND t.done_at IS NULL
         GROUP BY 1
        UNION ALL
        SELECT {_SECTION_OF.format(due="due")}, COUNT(*) FROM others GROUP BY 1
    ) AS by_source
    GROUP BY section
), merged AS ({task_reads}
    SELECT * FROM (
        SELECT source, {_SECTION_OF.format(due="due")} AS section, pk, due, kind, account_id
          FROM others
    ) AS other_items WHERE section IN ({wanted})
), kept AS (
    SELECT * FROM (
        SELECT merged.*,
               ROW_NUMBER() OVER (PARTITION BY section ORDER BY due, kind, pk) AS n
          FROM merged
    ) AS numbered
     WHERE {rows}
     ORDER BY section, n{most}
)
SELECT c.section, c.items, k.n, k.kind, k.pk, k.due, a.id, a.name, a.currency,
       t.title, t.review_id, t.objective_id, s.run_id, st.title, st.guidance,
       (SELECT pb.name FROM {t["run"]} run JOIN {t["playbook"]} pb ON pb.id = run.playbook_id
         WHERE run.id = s.run_id),
       (SELECT o.title FROM {t["objective"]} o WHERE o.id = t.objective_id),
       r.kind, r.held_on, n.forecast_category, n.current_arr
  FROM counts c
  LEFT JOIN kept k ON k.section = c.section
  LEFT JOIN {t["task"]} t ON k.source = 'task' AND t.id = k.pk
  LEFT JOIN {t["account"]} a ON a.id = COALESCE(k.account_id, t.account_id)
  LEFT JOIN {t["run_step"]} s ON s.task_id = t.id
  LEFT JOIN {t["step"]} st ON st.id = s.step_id
  LEFT JOIN {t["review"]} r ON r.id = CASE WHEN k.source = 'review' THEN k.pk ELSE t.review_id END
  LEFT JOIN {t["renewal"]} n ON k.source = 'renewal' AND n.id = k.pk
 ORDER BY c.section, k.n
"""


def _day(value: date | str | None) -> date | None:
    # SQLite hands a raw statement's dates back as text; PostgreSQL as dates.
    return date.fromisoformat(value) if isinstance(value, str) else value


def work_sections(
    *, user: User, today: date, show: tuple[str, ...], first: int = 0, limit: int | None
) -> list[WorkSection]:
    """Every section, in page order, with its count; and for those in `show`, the
    items numbered `first` (from 0) to `first + limit` (to the end when `limit`
    is None). One query."""
    params: dict[str, Any] = {
        "user": user.pk,
        "today": today,
        "week_end": today + WEEK_END,
        "review_scheduled": BusinessReview.Status.SCHEDULED,
        "renewal_open": Renewal.Status.OPEN,
        "account_archived": Account.Status.ARCHIVED,
        "first": first,
        "last": first + (limit or 0),
    }
    statement = _statement(tuple(SECTIONS.index(key) for key in show), limit is not None)
    with connection.cursor() as cursor:
        # Planning it cost PostgreSQL about as much as running it, on every request.
        execute_prepared(cursor, statement, params)
        fetched = cursor.fetchall()

    account_url = url_for_ids("account")
    review_url = url_for_ids("success:review")
    run_url = url_for_ids("playbooks:run")
    renewal_url = url_for_ids("success:renewal")
    counts = dict.fromkeys(SECTIONS, 0)
    items: dict[str, list[WorkItem]] = {key: [] for key in SECTIONS}
    for (
        number,
        count,
        n,
        kind,
        pk,
        due,
        account_id,
        account_name,
        currency,
        title,
        review_id,
        objective_id,
        run_id,
        step_title,
        guidance,
        playbook_name,
        objective_title,
        review_kind,
        held_on,
        forecast,
        arr,
    ) in fetched:
        key = SECTIONS[number]
        counts[key] = int(count)  # PostgreSQL sums to a decimal
        if n is None:
            continue  # a section not shown, or shown past its end: its count only
        kind = KINDS[kind]
        due = _day(due)
        url = account_url(account_id)
        overdue = number == 0
        if kind == "playbook":
            item = WorkItem(
                kind=kind,
                title=step_title,
                account_id=account_id,
                account_name=account_name,
                account_url=url,
                due=due,
                url=run_url(run_id),
                detail=f"Playbook: {playbook_name}" + (f" — {guidance}" if guidance else ""),
                overdue=overdue,
                task_id=pk,
            )
        elif kind == "review":
            item = WorkItem(
                kind=kind,
                title=f"Prepare the {_REVIEW_KINDS.get(review_kind, review_kind)}",
                account_id=account_id,
                account_name=account_name,
                account_url=url,
                due=due,
                url=review_url(pk),
                detail="Review pack and agenda",
                overdue=overdue,
            )
        elif kind == "renewal":
            item = WorkItem(
                kind=kind,
                title="Forecast the renewal"
                if not forecast
                else f"Renewal: {_FORECASTS.get(forecast, forecast)}",
                account_id=account_id,
                account_name=account_name,
                account_url=url,
                due=due,
                url=renewal_url(pk),
                detail=f"{money_display(arr, currency)} up for renewal",
                overdue=overdue,
            )
        else:
            item = WorkItem(
                kind=kind,
                title=title,
                account_id=account_id,
                account_name=account_name,
                account_url=url,
                due=due,
                url=review_url(review_id) if review_id is not None else f"{url}#success-plan",
                detail=(
                    f"Action item from {_REVIEW_KINDS.get(review_kind, review_kind)} "
                    f"{held_on or ''}"
                    if review_id is not None
                    else f"Objective: {objective_title}"
                    if objective_id is not None
                    else "Task"
                ),
                overdue=overdue,
                task_id=pk,
            )
        items[key].append(item)
    return [WorkSection(key, SECTION_TITLES[key], counts[key], items[key]) for key in SECTIONS]


def my_work(*, user: User, today: date) -> list[WorkItem]:
    """Every item due for one person, in page order: overdue first, then by date,
    undated last (what the sections list, end to end)."""
    sections = work_sections(user=user, today=today, show=SECTIONS, limit=None)
    return [i for s in sections for i in s.items]
