import time

from django.core.management.base import BaseCommand, CommandParser

from lifecycle.demo import build_all


class Command(BaseCommand):
    help = "Load a deterministic demo portfolio (idempotent: what exists is left as is)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=200, help="How many accounts.")
        parser.add_argument("--seed", type=int, default=7, help="Same seed, same portfolio.")
        parser.add_argument("--reset", action="store_true", help="Delete every account first.")

    def handle(self, *args: object, **options: int | bool) -> None:
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if total > 5000:
                self.stdout.write(f"  {done:,}/{total:,} accounts", ending="\r")
                self.stdout.flush()

        build_all(
            accounts=int(options["accounts"]),
            seed=int(options["seed"]),
            reset=bool(options["reset"]),
            progress=progress,
            log=self.stdout.write,
        )
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready ({time.monotonic() - started:.1f}s)")
        )
