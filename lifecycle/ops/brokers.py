"""django-q2's Redis broker, plus tasks that wait until a due time (a sorted set per
queue). The ORM broker has that already: a row whose `lock` is in the future."""

from __future__ import annotations

import time
from typing import Any

from django_q.brokers.redis_broker import Redis


class DelayedRedis(Redis):
    """Tasks go on the queue's list as django-q2 puts them; `enqueue_at` parks one in
    `<list>:later` scored by its due time, and every dequeue first moves the due ones
    onto the list. ZREM decides which of several clusters moves a task, so each due
    task is queued once."""

    # Blocking pops this long at most, so a due task waits at most this much more.
    BLOCK_SECONDS = 0.25

    @property
    def later_key(self) -> str:
        return f"{self.list_key}:later"

    def enqueue_at(self, task: str, due: float) -> str:
        self.connection.zadd(self.later_key, {task: due})
        return "later"

    def promote_due(self) -> int:
        moved = 0
        for task in self.connection.zrangebyscore(self.later_key, "-inf", time.time(), 0, 100):
            if self.connection.zrem(self.later_key, task):
                self.connection.rpush(self.list_key, task)
                moved += 1
        return moved

    def dequeue(self) -> list[tuple[Any, Any]] | None:
        self.promote_due()
        task = self.connection.blpop(self.list_key, self.BLOCK_SECONDS)
        if task:
            return [(None, task[1])]
        return None

    def queue_size(self) -> int:
        return int(self.connection.llen(self.list_key)) + int(self.connection.zcard(self.later_key))
