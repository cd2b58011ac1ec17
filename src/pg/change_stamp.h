/*
 * change_stamp.h
 *	  Counting committed changes to what cached gateway answers are made of.
 */
#ifndef FL_CHANGE_STAMP_H
#define FL_CHANGE_STAMP_H

/*
 * This transaction changes what cached answers show: count it at commit if
 * it wrote anything (always: even if it did not itself, as COMMIT PREPARED)
 */
extern void fl_note_change(bool always);

#endif
