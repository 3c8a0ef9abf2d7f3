import time

from django.core.management.base import BaseCommand, CommandParser

from accounts import demo


class Command(BaseCommand):
    help = "Load a deterministic demo portfolio (idempotent: skips when accounts exist)."

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

        result = demo.build(
            accounts=int(options["accounts"]),
            seed=int(options["seed"]),
            reset=bool(options["reset"]),
            progress=progress,
        )
        took = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"{result.message} ({took:.1f}s)"))
