"""Re-encrypting every stored secret under the newest encryption key."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import SealedValues, SealedValueStore, SecretCipher
from application.secret_values import SecretSealing
from domain.task import TaskId


@dataclass(frozen=True, slots=True)
class RotateEncryptionKeys:
    """Rules: every task's sealed arguments and result are opened with whichever configured
    key opens them and sealed again with the newest, `batch_size` tasks per transaction, so
    that the older keys can then be removed. A value no key opens stops the rotation
    (SecretUnreadableError) before its batch is written: the batches before it are done,
    and running it again after fixing the keys goes on from the start, harmlessly.

    Returns how many tasks were re-encrypted."""

    store: SealedValueStore
    cipher: SecretCipher
    batch_size: int = 500

    def execute(self) -> int:
        sealing = SecretSealing(self.cipher)
        after: TaskId | None = None
        count = 0
        while True:
            batch = self.store.sealed_after(after, self.batch_size)
            if not batch:
                return count
            self.store.replace(
                [
                    SealedValues(v.task_id, sealing.rotated(v.kwargs), sealing.rotated(v.result))
                    for v in batch
                ]
            )
            count += len(batch)
            after = batch[-1].task_id
