<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/** FK_EIO: a file-system operation failed (the message names the path). */
class IoException extends FortKnoxException
{
}
