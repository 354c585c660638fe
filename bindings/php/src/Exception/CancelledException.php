<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/** FK_ECANCELLED: the operation was cancelled; nothing was committed. */
class CancelledException extends FortKnoxException
{
}
