<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/** FK_EUNSUPPORTED: the server or the data uses something not supported. */
class UnsupportedException extends FortKnoxException
{
}
