<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/** FK_ENOTFOUND: the named entity, type, table, column or file does not exist (or the audit log is not installed). */
class NotFoundException extends FortKnoxException
{
}
