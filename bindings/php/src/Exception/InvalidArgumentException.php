<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/** FK_EINVAL: an invalid argument or option (a programming error). */
class InvalidArgumentException extends FortKnoxException
{
}
