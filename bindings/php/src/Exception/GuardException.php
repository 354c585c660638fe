<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/** FK_EGUARD: a fortknox guard in the database blocked the operation. */
class GuardException extends FortKnoxException
{
}
