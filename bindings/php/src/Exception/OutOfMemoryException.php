<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/** FK_ENOMEM: the library ran out of memory; nothing was changed. */
class OutOfMemoryException extends FortKnoxException
{
}
