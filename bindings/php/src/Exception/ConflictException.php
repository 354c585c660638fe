<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/** FK_ECONFLICT: the request contradicts existing state (e.g. an audit write in capture mode). */
class ConflictException extends FortKnoxException
{
}
